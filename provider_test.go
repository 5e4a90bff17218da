package gatehouse

import "testing"

func TestProviderLabel(t *testing.T) {
	for name, want := range map[string]string{"github": "GitHub", "linkedin": "LinkedIn", "corp": "Corp", "": ""} {
		if got := ProviderLabel(name); got != want {
			t.Errorf("ProviderLabel(%q) = %q, want %q", name, got, want)
		}
	}
}
