package host

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
)

// serviceMetrics is a service's own MeterProvider, exported on its
// GET /metrics from a Prometheus registry of its own: two services in one
// process (the demo) each show their series only, and the global
// provider stays the application's.
type serviceMetrics struct {
	provider *sdkmetric.MeterProvider
	handler  http.Handler
}

// newMetrics makes service's provider, its resource naming the service
// (target_info's service_name).
func newMetrics(service string) (*serviceMetrics, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("%s: metrics exporter: %w", service, err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", service))
	return &serviceMetrics{
		provider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithResource(res)),
		handler:  promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
	}, nil
}
