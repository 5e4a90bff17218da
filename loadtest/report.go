package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of a run.
type Report struct {
	URL         string
	Mode        string // "closed loop" or "open loop"
	Connections int
	Users       int           // virtual users registered
	Rate        float64       // open loop: requests/s offered
	MaxInFlight int           // open loop: most requests in flight
	Duration    time.Duration // per scenario
	Setup       *SetupResult  // nil when no scenario needed users
	Results     []*Result
	Notes       []string

	Bare       *Result       // the baseline, a bare net/http handler; nil if not measured
	HashTime   time.Duration // one uncontended password hash, timed before the login scenario; 0 if not
	HashCores  int           // the hash limit is HashCores / HashTime
	HashRate   float64       // hashes/s with HashCores computed at once; 0 if not measured
	Settle     time.Duration // how long the server was left idle after the last scenario
	RSSSettled int64         // its resident memory then, in bytes; 0 if not read
}

// HashLimit is the most logins per second the server's cores can hash: HashCores / HashTime.
func (rep *Report) HashLimit() float64 {
	if rep.HashTime <= 0 {
		return 0
	}
	return float64(rep.HashCores) / rep.HashTime.Seconds()
}

func (rep *Report) hasRSS() bool {
	for _, r := range rep.Results {
		if r.RSS > 0 || r.ServerCPU > 0 {
			return true
		}
	}
	return false
}

// WriteTable prints the report as a table.
func (rep *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "gatehouse bench %s: %s, %d connections", rep.URL, rep.Mode, rep.Connections)
	if rep.Users > 0 {
		fmt.Fprintf(&b, ", %d users", rep.Users)
	}
	if rep.Rate > 0 {
		fmt.Fprintf(&b, ", %s req/s offered, at most %d in flight", strconv.FormatFloat(rep.Rate, 'f', -1, 64), rep.MaxInFlight)
	}
	fmt.Fprintf(&b, ", %s per scenario\n", rep.Duration)
	if s := rep.Setup; s != nil {
		fmt.Fprintf(&b, "setup: %d users registered in %s (%d retries after 503/429, %d failed)\n",
			s.Registered, s.Elapsed.Round(time.Millisecond), s.Retries, s.Failed)
	}
	b.WriteString("latency is of 2xx answers")
	if rep.Rate > 0 {
		b.WriteString(", from each request's scheduled start")
	}
	b.WriteString("\n\n")

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "scenario\trequests\t2xx\t2xx/s\t"
	if rep.Bare != nil {
		head += "% bare\t"
	}
	head += "p50\tp90\tp99\tmax\terrors\t"
	if rep.Rate > 0 {
		head += "dropped\t"
	}
	withRSS := rep.hasRSS()
	if withRSS {
		head += "server cpu/2xx\trss after\t"
	}
	fmt.Fprintln(tw, head+"status\t")
	rows := rep.Results
	if rep.Bare != nil {
		rows = append([]*Result{rep.Bare}, rows...)
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t", r.Scenario, r.Requests, r.Successes, r.SuccessRate())
		if rep.Bare != nil {
			fmt.Fprintf(tw, "%.1f%%\t", 100*r.ShareOf(rep.Bare))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t", ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99), ms(r.Latency.Max), r.Errors)
		if rep.Rate > 0 {
			fmt.Fprintf(tw, "%d\t", r.Dropped)
		}
		if withRSS {
			rss := "-"
			if r.RSS > 0 {
				rss = mib(r.RSS)
			}
			cpu := "-"
			if c := r.CPUPerSuccess(); c > 0 {
				cpu = strconv.FormatFloat(float64(c)/float64(time.Microsecond), 'f', 0, 64) + "µs"
			}
			fmt.Fprintf(tw, "%s\t%s\t", cpu, rss)
		}
		fmt.Fprintf(tw, "%s\t\n", statusList(r.Status))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if limit := rep.HashLimit(); limit > 0 {
		for _, r := range rep.Results {
			if r.Scenario == ScenarioLogin {
				fmt.Fprintf(&b, "\nlogin: %.1f/s = %.1f%% of the hash limit, %d cores / %s a hash = %.1f/s\n",
					r.SuccessRate(), 100*r.SuccessRate()/limit, rep.HashCores, ms(rep.HashTime), limit)
				if rep.HashRate > 0 {
					fmt.Fprintf(&b, "login: %.1f/s = %.1f%% of the parallel hash rate, %d hashes at once = %.1f/s (%.1f%% of the hash limit)\n",
						r.SuccessRate(), 100*r.SuccessRate()/rep.HashRate, rep.HashCores, rep.HashRate, 100*rep.HashRate/limit)
				}
			}
		}
	}
	if rep.RSSSettled > 0 {
		fmt.Fprintf(&b, "\nresident memory of the server after %s idle: %s\n", rep.Settle, mib(rep.RSSSettled))
	}

	var details []string
	for _, r := range rep.Results {
		for _, k := range slices.Sorted(maps.Keys(r.Problems)) {
			details = append(details, fmt.Sprintf("%s: %d x %s", r.Scenario, r.Problems[k], k))
		}
		for _, k := range slices.Sorted(maps.Keys(r.ErrorKinds)) {
			details = append(details, fmt.Sprintf("%s: %d errors of kind %q, e.g. %s", r.Scenario, r.ErrorKinds[k], k, r.ErrorSamples[k]))
		}
	}
	if len(details) > 0 {
		b.WriteString("\n")
		for _, d := range details {
			b.WriteString(d + "\n")
		}
	}
	if len(rep.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range rep.Notes {
			b.WriteString("note: " + n + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}

func statusList(m map[int]int64) string {
	if len(m) == 0 {
		return "-"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d:%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

type jsonReport struct {
	URL         string       `json:"url"`
	Mode        string       `json:"mode"`
	Connections int          `json:"connections"`
	Users       int          `json:"users"`
	Rate        float64      `json:"rate,omitempty"`
	MaxInFlight int          `json:"max_in_flight,omitempty"`
	DurationS   float64      `json:"duration_seconds"`
	Setup       *jsonSetup   `json:"setup,omitempty"`
	Scenarios   []jsonResult `json:"scenarios"`
	Notes       []string     `json:"notes,omitempty"`

	Bare            *jsonResult `json:"bare,omitempty"`
	HashMS          float64     `json:"hash_ms,omitempty"`
	HashCores       int         `json:"hash_cores,omitempty"`
	HashLimit       float64     `json:"hash_limit_per_second,omitempty"`
	HashRate        float64     `json:"parallel_hash_rate_per_second,omitempty"`
	SettleS         float64     `json:"settle_seconds,omitempty"`
	RSSSettledBytes int64       `json:"rss_settled_bytes,omitempty"`
}

type jsonSetup struct {
	Registered int     `json:"registered"`
	Failed     int     `json:"failed"`
	Retries    int     `json:"retries"`
	ElapsedS   float64 `json:"elapsed_seconds"`
	FirstError string  `json:"first_error,omitempty"`
}

type jsonResult struct {
	Scenario     string            `json:"scenario"`
	Scheduled    int64             `json:"scheduled,omitempty"`
	Requests     int64             `json:"requests"`
	Successes    int64             `json:"successes"`
	SuccessRate  float64           `json:"successes_per_second"`
	Status       map[int]int64     `json:"status"`
	Problems     map[string]int64  `json:"problems,omitempty"`
	Errors       int64             `json:"errors"`
	ErrorKinds   map[string]int64  `json:"error_kinds,omitempty"`
	ErrorSamples map[string]string `json:"error_samples,omitempty"`
	Dropped      int64             `json:"dropped"`
	ElapsedS     float64           `json:"elapsed_seconds"`
	LatencyMS    jsonLatency       `json:"latency_ms"`
	ShareOfBare  float64           `json:"share_of_bare,omitempty"`
	ShareOfHash  float64           `json:"share_of_hash_limit,omitempty"`
	// ShareOfHashRate: logins as a share of the parallel hash rate (Report.HashRate).
	ShareOfHashRate float64 `json:"share_of_parallel_hash_rate,omitempty"`
	RSSBytes        int64   `json:"rss_after_bytes,omitempty"`
	ServerCPUS      float64 `json:"server_cpu_seconds,omitempty"`
}

type jsonLatency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// WriteJSON prints the report as one JSON object; latencies are in milliseconds.
func (rep *Report) WriteJSON(w io.Writer) error {
	msf := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	out := jsonReport{
		URL: rep.URL, Mode: rep.Mode, Connections: rep.Connections, Users: rep.Users,
		Rate: rep.Rate, MaxInFlight: rep.MaxInFlight, DurationS: rep.Duration.Seconds(),
		Scenarios: []jsonResult{}, Notes: rep.Notes,
	}
	if s := rep.Setup; s != nil {
		out.Setup = &jsonSetup{s.Registered, s.Failed, s.Retries, s.Elapsed.Seconds(), s.FirstError}
	}
	toJSON := func(r *Result) jsonResult {
		j := jsonResult{
			Scenario: r.Scenario, Scheduled: r.Scheduled, Requests: r.Requests, Successes: r.Successes,
			SuccessRate: r.SuccessRate(), Status: r.Status, Problems: r.Problems, Errors: r.Errors,
			ErrorKinds: r.ErrorKinds, ErrorSamples: r.ErrorSamples, Dropped: r.Dropped,
			ElapsedS: r.Elapsed.Seconds(),
			LatencyMS: jsonLatency{r.Latency.Count, msf(r.Latency.P50), msf(r.Latency.P90),
				msf(r.Latency.P99), msf(r.Latency.Max)},
			ShareOfBare: r.ShareOf(rep.Bare), RSSBytes: r.RSS, ServerCPUS: r.ServerCPU.Seconds(),
		}
		if limit := rep.HashLimit(); limit > 0 && r.Scenario == ScenarioLogin {
			j.ShareOfHash = r.SuccessRate() / limit
		}
		if rep.HashRate > 0 && r.Scenario == ScenarioLogin {
			j.ShareOfHashRate = r.SuccessRate() / rep.HashRate
		}
		return j
	}
	for _, r := range rep.Results {
		out.Scenarios = append(out.Scenarios, toJSON(r))
	}
	if rep.Bare != nil {
		b := toJSON(rep.Bare)
		out.Bare = &b
	}
	if rep.HashTime > 0 {
		out.HashMS, out.HashCores, out.HashLimit, out.HashRate = msf(rep.HashTime), rep.HashCores, rep.HashLimit(), rep.HashRate
	}
	if rep.RSSSettled > 0 {
		out.SettleS, out.RSSSettledBytes = rep.Settle.Seconds(), rep.RSSSettled
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
