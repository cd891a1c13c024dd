package openai

import "github.com/frontdesk/frontdesk/agent/internal/openaiapi"

// DefaultBaseURL is OpenAI's API.
const DefaultBaseURL = openaiapi.DefaultBaseURL

// ErrBudget is wrapped by errors of requests that exceeded their time budget.
var ErrBudget = openaiapi.ErrBudget
