package storetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// raceWins runs do n times at once and returns how many calls succeeded. A loser must answer
// gatehouse.ErrNotFound (a conditional write that found nothing to change); any other error
// fails the test.
func raceWins(t *testing.T, n int, do func() error) int {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range n {
		wg.Go(func() {
			err := do()
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			} else if !errors.Is(err, gatehouse.ErrNotFound) {
				t.Errorf("a concurrent write: %v", err)
			}
		})
	}
	wg.Wait()
	return wins
}
