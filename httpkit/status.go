package httpkit

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse"
)

var statusOfKind = map[gatehouse.ErrorKind]int{
	gatehouse.KindInternal:        http.StatusInternalServerError,
	gatehouse.KindBadRequest:      http.StatusBadRequest,
	gatehouse.KindInvalid:         http.StatusUnprocessableEntity,
	gatehouse.KindUnauthorized:    http.StatusUnauthorized,
	gatehouse.KindForbidden:       http.StatusForbidden,
	gatehouse.KindNotFound:        http.StatusNotFound,
	gatehouse.KindConflict:        http.StatusConflict,
	gatehouse.KindRateLimited:     http.StatusTooManyRequests,
	gatehouse.KindUnavailable:     http.StatusServiceUnavailable,
	gatehouse.KindBadGateway:      http.StatusBadGateway,
	gatehouse.KindPaymentRequired: http.StatusPaymentRequired,
}

// StatusOf is the HTTP status of an error kind, on every edge that answers HTTP (the dashboard
// answers with pages, but with the API's statuses). An unknown kind is a 500.
func StatusOf(k gatehouse.ErrorKind) int {
	if s, ok := statusOfKind[k]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// SetRetryAfter tells the client to wait d, in whole seconds rounded up.
func SetRetryAfter(h http.Header, d time.Duration) {
	h.Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
}
