package natsconf_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
	"github.com/giia/events/cmd/eventgen/internal/natsconf"
	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/bus/bustest"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/spec"
)

// smallCatalog: execution publishes to ddmrp and analytics (external);
// ddmrp publishes to analytics; analytics publishes nothing.
func smallCatalog() *catalog.Catalog {
	return &catalog.Catalog{
		Stream: catalog.Stream{
			Name: "GIIA", Subjects: []string{"execution.>", "ddmrp.>"}, Duplicates: 2 * time.Minute,
			MaxAge: 720 * time.Hour, Replicas: 3, DeadLetterStream: "GIIA_DLQ", DeadLetterPrefix: "dlq",
		},
		Services: []catalog.Service{
			{Name: "analytics", External: true},
			{Name: "ddmrp", Owner: "planning"},
			{Name: "execution"},
		},
		Events: []catalog.Event{
			{Subject: "ddmrp.buffer.calculated", Version: 1, Publisher: "ddmrp", Consumers: []string{"analytics"}},
			{Subject: "execution.order.created", Version: 2, Publisher: "execution", Consumers: []string{"analytics", "ddmrp"}},
		},
	}
}

func decode(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m), string(data))
	return m
}

func TestGenerate(t *testing.T) {
	files, err := natsconf.Generate(smallCatalog(), natsconf.Options{})
	require.NoError(t, err)
	names := make([]string, 0, len(files))
	for n, data := range files {
		names = append(names, n)
		assert.Equal(t, byte('\n'), data[len(data)-1], n)
	}
	sort.Strings(names)
	assert.Equal(t, []string{"consumer-analytics.json", "consumer-ddmrp.json", "stream-dead-letters.json", "stream.json"}, names,
		"execution consumes nothing: no consumer file")

	s := decode(t, files[natsconf.StreamFile])
	assert.Equal(t, "GIIA", s["name"])
	assert.Equal(t, []any{"execution.>", "ddmrp.>"}, s["subjects"])
	assert.Equal(t, "limits", s["retention"])
	assert.Equal(t, "file", s["storage"])
	assert.Equal(t, "old", s["discard"])
	assert.Equal(t, float64(720*time.Hour), s["max_age"], "nanoseconds")
	assert.Equal(t, float64(2*time.Minute), s["duplicate_window"], "nanoseconds")
	assert.Equal(t, float64(3), s["num_replicas"])

	d := decode(t, files[natsconf.DeadLetterStreamFile])
	assert.Equal(t, "GIIA_DLQ", d["name"])
	assert.Equal(t, []any{"dlq.>"}, d["subjects"])

	c := decode(t, files[natsconf.ConsumerFile("analytics")])
	assert.Equal(t, "analytics-service", c["durable_name"])
	assert.Equal(t, []any{"ddmrp.buffer.calculated", "execution.order.created"}, c["filter_subjects"])
	assert.Equal(t, "explicit", c["ack_policy"])
	assert.Equal(t, "all", c["deliver_policy"])
	assert.Equal(t, float64(spec.DefaultAckWait), c["ack_wait"])
	assert.Equal(t, float64(spec.DefaultMaxDeliver+spec.VersionWaitDeliveries+spec.DeadLetterSpareDeliveries), c["max_deliver"])

	again, err := natsconf.Generate(smallCatalog(), natsconf.Options{})
	require.NoError(t, err)
	assert.Equal(t, files, again, "deterministic")
}

func TestGenerateOptions(t *testing.T) {
	files, err := natsconf.Generate(smallCatalog(), natsconf.Options{MaxDeliver: 3, AckWait: 10 * time.Second})
	require.NoError(t, err)
	// The file reads as nats.go reads the server's configuration.
	var cfg jetstream.ConsumerConfig
	require.NoError(t, json.Unmarshal(files[natsconf.ConsumerFile("ddmrp")], &cfg))
	assert.Equal(t, "ddmrp-service", cfg.Durable)
	assert.Equal(t, 3+spec.VersionWaitDeliveries+spec.DeadLetterSpareDeliveries, cfg.MaxDeliver)
	assert.Equal(t, 10*time.Second, cfg.AckWait)
	assert.Equal(t, jetstream.AckExplicitPolicy, cfg.AckPolicy)
	assert.Equal(t, jetstream.DeliverAllPolicy, cfg.DeliverPolicy)
	assert.NotEmpty(t, cfg.FilterSubjects)

	_, err = natsconf.Generate(smallCatalog(), natsconf.Options{MaxDeliver: -1})
	assert.ErrorIs(t, err, spec.ErrInvalidSettings)
	assert.ErrorContains(t, err, `consumer of "analytics"`)
}

// moduleRoot is the folder of go.mod above the test's folder.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the test")
		dir = parent
	}
}

func loadRealCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	root := moduleRoot(t)
	cat, err := catalog.Load(root, filepath.Join(root, "catalog"))
	require.NoError(t, err)
	return cat
}

// TestRuntimeCatalogMatchesGenerated: the conversion gives the topology the
// generated events.Catalog gives the services.
func TestRuntimeCatalogMatchesGenerated(t *testing.T) {
	bc := natsconf.RuntimeCatalog(loadRealCatalog(t))
	assert.Equal(t, events.Catalog.Stream, bc.Stream)
	assert.Equal(t, events.Catalog.Services, bc.Services)
	require.Len(t, bc.Events, len(events.Catalog.Events))
	for i, e := range events.Catalog.Events {
		got := bc.Events[i]
		assert.Equal(t, e.Subject, got.Subject)
		assert.Equal(t, e.Version, got.Version)
		assert.Equal(t, e.Publisher, got.Publisher)
		assert.Equal(t, e.Consumers, got.Consumers)
	}
}

// apiResponse is the part of a JetStream API response that tells success.
type apiResponse struct {
	Error *struct {
		Code        int    `json:"code"`
		ErrCode     int    `json:"err_code"`
		Description string `json:"description"`
	} `json:"error"`
}

// request sends a JetStream API request as the NATS CLI does and fails the
// test on an error response.
func request(t *testing.T, nc *nats.Conn, subject string, body []byte) {
	t.Helper()
	msg, err := nc.Request(subject, body, 5*time.Second)
	require.NoError(t, err, subject)
	var resp apiResponse
	require.NoError(t, json.Unmarshal(msg.Data, &resp), string(msg.Data))
	require.Nil(t, resp.Error, "%s refused the configuration: %s", subject, msg.Data)
}

// topology is what a server holds: stream and consumer configurations.
type topology struct {
	streams   map[string]jetstream.StreamConfig
	consumers map[string]jetstream.ConsumerConfig
}

func snapshot(t *testing.T, ctx context.Context, js jetstream.JetStream, streams []string, stream string, durables []string) topology {
	t.Helper()
	top := topology{streams: map[string]jetstream.StreamConfig{}, consumers: map[string]jetstream.ConsumerConfig{}}
	for _, name := range streams {
		s, err := js.Stream(ctx, name)
		require.NoError(t, err, name)
		top.streams[name] = s.CachedInfo().Config
	}
	for _, d := range durables {
		c, err := js.Consumer(ctx, stream, d)
		require.NoError(t, err, d)
		top.consumers[d] = c.CachedInfo().Config
	}
	return top
}

// TestFilesProvisionAServer feeds the generated files of the real catalog
// to a real server through the JetStream API requests the NATS CLI sends,
// then checks that the server holds exactly what bus.EnsureTopology
// creates from the generated events.Catalog.
func TestFilesProvisionAServer(t *testing.T) {
	srv := bustest.RunServer(t)
	if srv.External() {
		t.Skip("the test creates the catalog's own stream names; it needs the in-process server")
	}
	cat := loadRealCatalog(t)
	files, err := natsconf.Generate(cat, natsconf.Options{})
	require.NoError(t, err)

	nc, err := nats.Connect(srv.URL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// nats stream add --config FILE
	var streams []string
	for _, f := range []string{natsconf.StreamFile, natsconf.DeadLetterStreamFile} {
		var cfg struct {
			Name string `json:"name"`
		}
		require.NoError(t, json.Unmarshal(files[f], &cfg))
		streams = append(streams, cfg.Name)
		request(t, nc, "$JS.API.STREAM.CREATE."+cfg.Name, files[f])
	}
	// nats consumer add STREAM --config FILE
	var durables []string
	for _, s := range cat.Services {
		data, ok := files[natsconf.ConsumerFile(s.Name)]
		if !ok {
			continue
		}
		var cfg struct {
			Durable string `json:"durable_name"`
		}
		require.NoError(t, json.Unmarshal(data, &cfg))
		durables = append(durables, cfg.Durable)
		body, err := json.Marshal(map[string]any{"stream_name": cat.Stream.Name, "config": json.RawMessage(data)})
		require.NoError(t, err)
		request(t, nc, "$JS.API.CONSUMER.CREATE."+cat.Stream.Name+"."+cfg.Durable, body)
	}
	assert.ElementsMatch(t, []string{"ai-hub-service", "analytics-service", "ddmrp-service", "execution-service"}, durables)
	fromFiles := snapshot(t, ctx, js, streams, cat.Stream.Name, durables)

	// What the services create themselves.
	for _, s := range streams {
		require.NoError(t, js.DeleteStream(ctx, s))
	}
	conn, err := bus.Connect(srv.URL())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	require.NoError(t, bus.EnsureTopology(ctx, conn, events.Catalog))
	fromRuntime := snapshot(t, ctx, js, streams, cat.Stream.Name, durables)

	assert.Equal(t, fromRuntime, fromFiles)
}

// TestLegacyFiles: with Legacy each consuming service gets one durable per
// subject it consumes, named as sdk/bus names them on NATS 2.9, which a
// server accepts as they are.
func TestLegacyFiles(t *testing.T) {
	srv := bustest.RunServer(t)
	if srv.External() {
		t.Skip("the test creates the catalog's own stream names; it needs the in-process server")
	}
	cat := loadRealCatalog(t)
	files, err := natsconf.Generate(cat, natsconf.Options{Legacy: true})
	require.NoError(t, err)
	nc, err := nats.Connect(srv.URL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	request(t, nc, "$JS.API.STREAM.CREATE."+cat.Stream.Name, files[natsconf.StreamFile])

	bc := natsconf.RuntimeCatalog(cat)
	n := 0
	for _, s := range cat.Services {
		want := bc.ConsumedBy(s.Name)
		_, multi := files[natsconf.ConsumerFile(s.Name)]
		assert.False(t, multi, "no multi-filter file for %s", s.Name)
		var got []string
		for _, subject := range want {
			durable := spec.ConsumerName(s.Name) + "-" + strings.ReplaceAll(subject, ".", "_")
			data, ok := files["consumer-"+durable+".json"]
			require.True(t, ok, "%s: no file for %s", s.Name, durable)
			var cfg struct {
				Durable        string   `json:"durable_name"`
				FilterSubject  string   `json:"filter_subject"`
				FilterSubjects []string `json:"filter_subjects"`
			}
			require.NoError(t, json.Unmarshal(data, &cfg))
			assert.Equal(t, durable, cfg.Durable)
			assert.Empty(t, cfg.FilterSubjects)
			got = append(got, cfg.FilterSubject)
			body, err := json.Marshal(map[string]any{"stream_name": cat.Stream.Name, "config": json.RawMessage(data)})
			require.NoError(t, err)
			request(t, nc, "$JS.API.CONSUMER.CREATE."+cat.Stream.Name+"."+durable, body)
			n++
		}
		assert.Equal(t, want, got, s.Name)
	}
	assert.Len(t, files, n+2, "the two streams and one file per durable")
}
