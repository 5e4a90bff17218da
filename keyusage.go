package gatehouse

import (
	"context"
	"sync"
	"time"
)

// keyUsage counts API key uses in memory; FlushAPIKeyUsage writes them in one transaction, so
// authenticating a request never costs a database write.
type keyUsage struct {
	mu      sync.Mutex
	pending map[string]pendingUse
}

type pendingUse struct {
	count int64
	last  time.Time
}

func newKeyUsage() *keyUsage { return &keyUsage{pending: make(map[string]pendingUse)} }

func (u *keyUsage) add(id string, at time.Time) {
	u.mu.Lock()
	p := u.pending[id]
	p.count++
	if at.After(p.last) {
		p.last = at
	}
	u.pending[id] = p
	u.mu.Unlock()
}

func (u *keyUsage) take() map[string]pendingUse {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.pending) == 0 {
		return nil
	}
	out := u.pending
	u.pending = make(map[string]pendingUse)
	return out
}

// putBack returns uses a failed flush could not write, so they are counted later.
func (u *keyUsage) putBack(batch map[string]pendingUse) {
	u.mu.Lock()
	for id, p := range batch {
		q := u.pending[id]
		q.count += p.count
		if p.last.After(q.last) {
			q.last = p.last
		}
		u.pending[id] = q
	}
	u.mu.Unlock()
}

// overlay adds unflushed uses to a key read from the store.
func (u *keyUsage) overlay(k *APIKey) {
	u.mu.Lock()
	p, ok := u.pending[k.ID]
	u.mu.Unlock()
	if !ok {
		return
	}
	k.UseCount += p.count
	if k.LastUsedAt == nil || p.last.After(*k.LastUsedAt) {
		last := p.last
		k.LastUsedAt = &last
	}
}

// FlushAPIKeyUsage writes the counted uses.
func (s *AuthService) FlushAPIKeyUsage(ctx context.Context) error {
	batch := s.usage.take()
	if batch == nil {
		return nil
	}
	err := s.tx(ctx, func(tx StoreTx) error {
		for id, p := range batch {
			if err := tx.RecordAPIKeyUse(ctx, id, p.count, p.last); err != nil && !isNotFound(err) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.usage.putBack(batch)
	}
	return err
}

// RunAPIKeyUsageFlusher flushes every interval until ctx ends, then once more.
func (s *AuthService) RunAPIKeyUsageFlusher(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := s.FlushAPIKeyUsage(final); err != nil {
				s.log.Warn("could not record API key usage at shutdown", "error", err)
			}
			cancel()
			return
		case <-t.C:
			if err := s.FlushAPIKeyUsage(ctx); err != nil {
				s.log.Warn("could not record API key usage; will retry", "error", err)
			}
		}
	}
}
