// Package tools is the receptionist's tool set, shared by every dialogue
// engine: the cloud LLM calls the tools through function calling and the
// embedded rules engine (agent/llm/rules) calls the same tools with the same
// arguments, so the session executes both alike.
//
// Definitions returns the tools as []agent.Tool (name, description, JSON
// Schema). An Executor runs one agent.ToolCall and returns the JSON content
// of the tool message, plus an Action (transfer, hang up) for the session to
// act on. get_hours and search_faq run from the business configuration
// alone; the booking tools and update_lead go through a Backend, a small
// interface the server implements over the store. Memory is an in-memory
// Backend built on the scheduling rules, for tests, the simulator and dev.
//
// Failures never panic and never abort the conversation: they become a JSON
// object {"error": "...", "code": "..."} that the engine reads back and can
// explain to the caller; a taken slot carries the next free slots.
//
// The helpers that turn hours, dates and times into short spoken English
// (SpokenTime, SpokenDay, SpokenWeek, HoursOn…) and the FAQ retrieval index
// (FAQIndex) live here too, so both engines say the same things.
package tools
