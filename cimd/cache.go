package cimd

import (
	"container/list"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	// MinCacheTTL and MaxCacheTTL clamp the lifetime of a cached document, whatever its
	// response's cache headers say (draft-00 §4.4 / current "Metadata Caching": the server "MAY
	// define its own upper and/or lower bounds").
	MinCacheTTL = 5 * time.Minute
	MaxCacheTTL = 24 * time.Hour

	// DefaultNegativeTTL is how long a failed fetch is remembered by default.
	DefaultNegativeTTL = 30 * time.Second

	// DefaultCacheSize is the default bound on cached entries (documents and remembered
	// failures together).
	DefaultCacheSize = 10000
)

// cacheTTL is the lifetime RFC 9111 would give resp, clamped to [MinCacheTTL, MaxCacheTTL]:
// Cache-Control no-store or no-cache, or nothing usable, give the minimum; otherwise max-age
// (less Age), else Expires less Date (or less now when Date is absent or invalid).
func cacheTTL(h http.Header, now time.Time) time.Duration {
	return clampTTL(rawTTL(h, now))
}

func clampTTL(d time.Duration) time.Duration {
	return min(max(d, MinCacheTTL), MaxCacheTTL)
}

func rawTTL(h http.Header, now time.Time) time.Duration {
	maxAge, haveMaxAge := time.Duration(0), false
	for _, line := range h.Values("Cache-Control") {
		for _, dir := range strings.Split(line, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(dir), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache":
				return 0
			case "max-age":
				if haveMaxAge {
					continue // the first one counts
				}
				haveMaxAge = true
				maxAge = parseSeconds(strings.Trim(strings.TrimSpace(value), `"`))
			}
		}
	}
	if haveMaxAge {
		return maxAge - parseSeconds(h.Get("Age"))
	}
	if v := h.Get("Expires"); v != "" {
		exp, err := http.ParseTime(v)
		if err != nil {
			return 0 // an invalid Expires means "already expired" (RFC 9111 §5.3)
		}
		base := now
		if d, err := http.ParseTime(h.Get("Date")); err == nil {
			base = d
		}
		return exp.Sub(base)
	}
	return 0
}

// parseSeconds reads a delta-seconds value; anything invalid is 0, and huge values saturate
// above MaxCacheTTL instead of overflowing.
func parseSeconds(s string) time.Duration {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 2 * MaxCacheTTL
		}
		return 0
	}
	if n > uint64(2*MaxCacheTTL/time.Second) {
		return 2 * MaxCacheTTL
	}
	return time.Duration(n) * time.Second
}

// entry is one cached outcome: a document, or a remembered failure.
type entry struct {
	key     string
	doc     *Document
	err     *Error
	expires time.Time
	elem    *list.Element
}

// cache is a bounded map of entries that evicts the oldest stored first. It is not safe for
// concurrent use; the Fetcher's mutex guards it.
type cache struct {
	max     int
	entries map[string]*entry
	order   *list.List // front = oldest
}

func newCache(max int) *cache {
	return &cache{max: max, entries: map[string]*entry{}, order: list.New()}
}

// get returns the live entry for key, dropping it if it has expired at now.
func (c *cache) get(key string, now time.Time) *entry {
	e := c.entries[key]
	if e == nil {
		return nil
	}
	if !now.Before(e.expires) {
		c.remove(e)
		return nil
	}
	return e
}

func (c *cache) put(e *entry) {
	if old := c.entries[e.key]; old != nil {
		c.remove(old)
	}
	for len(c.entries) >= c.max {
		c.remove(c.order.Front().Value.(*entry))
	}
	e.elem = c.order.PushBack(e)
	c.entries[e.key] = e
}

func (c *cache) remove(e *entry) {
	c.order.Remove(e.elem)
	delete(c.entries, e.key)
}
