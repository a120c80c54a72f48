package cmd

import (
	"errors"

	"github.com/ogive-project/ogive/input"
)

// confirm asks question, yes or no, when a person is there to answer
// (canAsk) and the controlling terminal opens. The question and the answer
// go through the terminal only, never stdin, which may carry the password,
// nor stderr, which may go to a file. With nobody to ask (cron, CI) it
// returns asked false and no error, as the command went ahead before it
// asked; a "no" is a *declinedError saying nothing was done.
func (f *Factory) confirm(g *globalOptions, question, nothing string) (asked bool, err error) {
	if !f.canAsk() {
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

// canAsk reports whether a person may be at a terminal to answer a
// question: stdin or stderr is one. `ogive rm ID 2>>log` typed at a
// terminal still asks (on /dev/tty); a command with both redirected, such
// as `echo pw | ogive rm ID 2>log`, or run from cron or CI, does not.
// Whether the terminal is really there is known only when confirm opens it.
func (f *Factory) canAsk() bool { return f.InIsTerminal || f.ErrIsTerminal }
