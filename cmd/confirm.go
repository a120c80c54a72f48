package cmd

import (
	"errors"

	"github.com/ogive-project/ogive/input"
)

// confirm asks question, yes or no, when a person is there to answer:
// stderr is a terminal and the controlling terminal opens. The answer is
// read from the terminal only, never from stdin, which may carry the
// password. With nobody to ask (cron, CI, a pipe into another program) it
// returns asked false and no error, as the command went ahead before it
// asked; a "no" is a *declinedError saying nothing was done.
func (f *Factory) confirm(g *globalOptions, question, nothing string) (asked bool, err error) {
	if !f.ErrIsTerminal {
		return false, nil
	}
	yes, err := f.prompter(g, false).Confirm(question)
	switch {
	case errors.Is(err, input.ErrNoTerminal):
		return false, nil
	case err != nil:
		return true, err
	case !yes:
		return true, &declinedError{nothing}
	}
	return true, nil
}

// declinedError is a question answered no.
type declinedError struct{ nothing string }

func (e *declinedError) Error() string { return "not confirmed: " + e.nothing }
