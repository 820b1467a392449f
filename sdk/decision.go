package sdk

import "time"

// Decision is what the import workflow concluded for one order: the merged
// output of every policy package, each item attributed to the package that
// produced it so an operator can always see why.
type Decision struct {
	Revision    string    `json:"revision"`
	EvaluatedAt time.Time `json:"evaluated_at"`
	// Status is the status the decision implies before any operator action.
	Status  Status         `json:"status"`
	Tags    []TagDecision  `json:"tags,omitempty"`
	Holds   []Hold         `json:"holds,omitempty"`
	Cancels []Cancellation `json:"cancels,omitempty"`
	Notes   []NoteDecision `json:"notes,omitempty"`
	Fields  []FieldEdit    `json:"fields,omitempty"`
	Alerts  []Alert        `json:"alerts,omitempty"`
	// Error is set when the workflow could not decide; the order is then
	// held with reason policy_error.
	Error string `json:"error,omitempty"`
}

// TagDecision is one tag the workflow added.
type TagDecision struct {
	Tag     string `json:"tag"`
	Package string `json:"package"`
}

// NoteDecision is one line the workflow appended to the order note.
type NoteDecision struct {
	Note    string `json:"note"`
	Package string `json:"package"`
}

// FieldEdit is one change of an order field made by the workflow. Path is
// one of the editable paths (see EditablePath).
type FieldEdit struct {
	Path    string `json:"path"`
	Value   string `json:"value"`
	Package string `json:"package"`
}
