package storetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// raceCount runs try n times at once and counts the tries that won; an error fails the test.
func raceCount(t *testing.T, n int, try func() (won bool, err error)) int {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range n {
		wg.Go(func() {
			won, err := try()
			if err != nil {
				t.Errorf("a concurrent try: %v", err)
			}
			if won {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return wins
}

// raceWins runs do n times at once and returns how many calls succeeded. A loser must answer
// gatehouse.ErrNotFound (a conditional write that found nothing to change); any other error
// fails the test.
func raceWins(t *testing.T, n int, do func() error) int {
	t.Helper()
	return raceCount(t, n, func() (bool, error) {
		err := do()
		if errors.Is(err, gatehouse.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	})
}
