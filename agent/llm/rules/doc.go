// Package rules is Frontdesk's embedded dialogue engine: a receptionist
// written as rules, not a language model, that implements agent.LLM with
// the same tools (package agent/tools) the cloud LLM calls.
//
// It answers questions from the business's configured FAQs (retrieval with
// a confidence threshold), tells the hours and whether the business is open
// now or on a given day in its own time zone, books, reschedules and
// cancels appointments by filling slots (service, day, time, name, phone)
// and reading them back before acting, takes messages and saves leads,
// transfers to a person or offers a message after hours, and says goodbye
// and hangs up.
//
// # Statelessness
//
// The engine keeps nothing between calls. Each Complete replays the whole
// conversation — the caller's utterances and the tool results, in order —
// through the same deterministic state machine, and answers the last
// event; the assistant messages only tell it which tool each result
// belongs to. So one Engine serves any number of concurrent calls, a call
// can move between nodes, and the state can never drift from the
// transcript. Replaying costs a few microseconds per turn.
//
// # Input conventions
//
// User messages are recognised speech: lowercase, no punctuation, possibly
// with wrong words. The engine never acts on ambiguity: a yes/no it cannot
// read, two services that fit, or a time it cannot place are asked again,
// and every booking and cancellation is read back and confirmed first.
//
// Keypad input is passed by the session as a user message "DTMF: " followed
// by the keys pressed, e.g. "DTMF: 2125550123" or "DTMF: 1#" (the session
// collects keys until "#" or a pause). When the engine expects a phone
// number the digits are the number; for a yes/no question 1 is yes and 2 is
// no; when it has offered times, key n picks the n-th offer.
//
// HintFor tells the recogniser what the next answer is expected to be
// (yes/no, digits, a time), so that closed questions can use a grammar.
package rules
