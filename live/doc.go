// Package live is the supervisors' hub: every call publishes its audio
// (caller and agent, sample-aligned, one 20 ms frame pair at a time) and its
// events (transcript, agent state, tool calls, barge-ins, …) to a Topic, and
// listeners receive them through bounded drop-oldest queues, the call's event
// history first. A slow or stuck listener never delays the call and never
// grows memory without bound: its oldest queued items are dropped and
// counted.
//
// The package is transport-neutral and imports only the standard library and
// media. Messages have a binary wire form (Message) so a relay can carry a
// call's stream to other nodes: Options.Publish receives every local call's
// messages from a hub-owned goroutine, Mirror/Inject make a remote call's
// messages available to local listeners, Options.Remote lets Listen attach to
// a call on another node on demand, and Announce/Gone feed remote calls to
// Watch. docs/supervisors.md describes the contract.
package live
