package loadtest

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// stats are what one worker (closed loop) or one in-flight slot (open loop) recorded. Only its
// owner writes it, so recording needs no lock; merge combines them once everything is done.
type stats struct {
	requests  int64
	errors    int64
	lat       []time.Duration // latency of each 2xx answer
	status    map[int]int64
	problems  map[string]int64 // "503 server_busy"
	errKinds  map[string]int64
	errSample map[string]string
}

// record counts one request: an answer with status (and its problem code), or err when no usable
// answer came.
func (s *stats) record(status int, code string, err error, lat time.Duration) {
	s.requests++
	if err != nil {
		s.errors++
		kind := errorKind(err)
		if s.errKinds == nil {
			s.errKinds, s.errSample = map[string]int64{}, map[string]string{}
		}
		s.errKinds[kind]++
		if _, ok := s.errSample[kind]; !ok {
			s.errSample[kind] = err.Error()
		}
		return
	}
	if s.status == nil {
		s.status = map[int]int64{}
	}
	s.status[status]++
	if status/100 == 2 {
		s.lat = append(s.lat, lat)
		return
	}
	if code != "" {
		if s.problems == nil {
			s.problems = map[string]int64{}
		}
		s.problems[strconv.Itoa(status)+" "+code]++
	}
}

// errorKind sorts a failed request into a few kinds for the report.
func errorKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, errBadResponse):
		return "bad response"
	case errors.Is(err, errNoUser):
		return "no idle user"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	}
	return "other"
}

// Result is what one scenario measured. Requests = sum of Status + Errors; Successes are the 2xx
// answers. In open loop, Scheduled = Requests + Dropped (unless interrupted).
type Result struct {
	Scenario     string
	Scheduled    int64            // open loop: requests whose start time came
	Requests     int64            // requests sent
	Successes    int64            // 2xx answers
	Status       map[int]int64    // answers by status code
	Problems     map[string]int64 // non-2xx answers by "status error_code"
	Errors       int64            // requests without a usable answer
	ErrorKinds   map[string]int64 // errors by kind
	ErrorSamples map[string]string
	Dropped      int64         // open loop: scheduled but not started, MaxInFlight being reached
	Elapsed      time.Duration // from the first start to the last answer
	Latency      Latency       // of the 2xx answers
	RSS          int64         // the server's resident memory in bytes right after; 0 if not read
	ServerCPU    time.Duration // CPU time (user + system) the server used during the scenario; 0 if not read
}

// CPUPerSuccess is the server's CPU time per 2xx answer, which other work on the machine changes
// less than the rate does; 0 if not read.
func (r *Result) CPUPerSuccess() time.Duration {
	if r.Successes == 0 {
		return 0
	}
	return r.ServerCPU / time.Duration(r.Successes)
}

// ShareOf is r's successes per second as a share of base's (0.25 for a quarter); 0 without a base.
func (r *Result) ShareOf(base *Result) float64 {
	if base == nil || base.SuccessRate() <= 0 {
		return 0
	}
	return r.SuccessRate() / base.SuccessRate()
}

// SuccessRate is successes per second of Elapsed.
func (r *Result) SuccessRate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Successes) / r.Elapsed.Seconds()
}

// Latency summarizes a list of latencies.
type Latency struct {
	Count              int
	P50, P90, P99, Max time.Duration
}

// Summarize sorts lat in place and returns its percentiles.
func Summarize(lat []time.Duration) Latency {
	slices.Sort(lat)
	l := Latency{Count: len(lat)}
	if len(lat) == 0 {
		return l
	}
	l.P50 = Percentile(lat, 50)
	l.P90 = Percentile(lat, 90)
	l.P99 = Percentile(lat, 99)
	l.Max = lat[len(lat)-1]
	return l
}

// Percentile returns the p-th percentile of sorted (ascending) by the nearest-rank method: the
// smallest value such that at least p percent of the values are at most it. It is 0 for an empty
// list.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if p <= 0 {
		return sorted[0]
	}
	if p >= 100 {
		return sorted[n-1]
	}
	// p*n before dividing keeps whole ranks exact (90*10/100 = 9, not 9.000000000000002).
	rank := int64(p * float64(n) / 100)
	if float64(rank)*100 < p*float64(n) {
		rank++
	}
	return sorted[max(rank, 1)-1]
}

// merge combines what the workers recorded.
func merge(name string, all []stats, elapsed time.Duration) *Result {
	res := &Result{Scenario: name, Elapsed: elapsed, Status: map[int]int64{}}
	n := 0
	for i := range all {
		n += len(all[i].lat)
	}
	lat := make([]time.Duration, 0, n)
	for i := range all {
		s := &all[i]
		res.Requests += s.requests
		res.Errors += s.errors
		lat = append(lat, s.lat...)
		for k, v := range s.status {
			res.Status[k] += v
			if k/100 == 2 {
				res.Successes += v
			}
		}
		res.Problems = addCounts(res.Problems, s.problems)
		res.ErrorKinds = addCounts(res.ErrorKinds, s.errKinds)
		for k, v := range s.errSample {
			if res.ErrorSamples == nil {
				res.ErrorSamples = map[string]string{}
			}
			if _, ok := res.ErrorSamples[k]; !ok {
				res.ErrorSamples[k] = v
			}
		}
	}
	res.Latency = Summarize(lat)
	return res
}

func addCounts(dst, src map[string]int64) map[string]int64 {
	for k, v := range src {
		if dst == nil {
			dst = map[string]int64{}
		}
		dst[k] += v
	}
	return dst
}
