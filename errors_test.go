package gatehouse

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorIsMatchesByCode(t *testing.T) {
	outage := &Error{Kind: KindUnavailable, Code: ErrStoreUnavailable.Code, Message: "The database did not answer in time.", Err: errors.New("i/o timeout")}
	if !errors.Is(fmt.Errorf("refresh: %w", outage), ErrStoreUnavailable) {
		t.Fatal("a store outage with its own message is not ErrStoreUnavailable")
	}
	if errors.Is(outage, ErrBusy) || errors.Is(ErrNotFound, ErrStoreUnavailable) {
		t.Fatal("errors of other codes match")
	}
	if errors.Is(outage, &Error{}) {
		t.Fatal("an error without a code matches")
	}
}
