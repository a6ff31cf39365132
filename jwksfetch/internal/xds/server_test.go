package xds

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	wasmfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	extensionv3 "github.com/envoyproxy/go-control-plane/envoy/service/extension/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/tokengate/tokengate/jwksfetch/internal/ecds"
)

const template = `{"name":"tokengate","root_id":"tokengate","vm_config":{"runtime":"envoy.wasm.runtime.v8","code":{"local":{"filename":"/etc/envoy/tokengate.wasm"}}}}`

// configuration unpacks the plugin configuration from a TypedExtensionConfig.
func configuration(t *testing.T, packed *anypb.Any) string {
	t.Helper()
	var tec corev3.TypedExtensionConfig
	if err := packed.UnmarshalTo(&tec); err != nil {
		t.Fatal(err)
	}
	var w wasmfilterv3.Wasm
	if err := tec.TypedConfig.UnmarshalTo(&w); err != nil {
		t.Fatal(err)
	}
	var s wrapperspb.StringValue
	if err := w.Config.Configuration.UnmarshalTo(&s); err != nil {
		t.Fatal(err)
	}
	if tec.Name != "tokengate" || w.Config.GetVmConfig().GetCode().GetLocal().GetFilename() != "/etc/envoy/tokengate.wasm" {
		t.Fatalf("unexpected resource %v", &tec)
	}
	return s.Value
}

func start(t *testing.T) (*Server, extensionv3.ExtensionConfigDiscoveryServiceClient) {
	t.Helper()
	tmpl, err := ecds.ParseTemplate([]byte(template))
	if err != nil {
		t.Fatal(err)
	}
	srv := New("tokengate", tmpl, slog.New(slog.NewTextHandler(io.Discard, nil)))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not stop after cancel")
		}
	})
	return srv, extensionv3.NewExtensionConfigDiscoveryServiceClient(conn)
}

func TestStateOfTheWorld(t *testing.T) {
	t.Parallel()
	srv, client := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Publish(ctx, []byte(`{"v":1}`)); err != nil {
		t.Fatal(err)
	}
	stream, err := client.StreamExtensionConfigs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	node := &corev3.Node{Id: "envoy-1", Cluster: "edge"}
	req := &discoveryv3.DiscoveryRequest{Node: node, TypeUrl: resourcev3.ExtensionConfigType, ResourceNames: []string{"tokengate"}}
	if err := stream.Send(req); err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Resources) != 1 || configuration(t, first.Resources[0]) != `{"v":1}` {
		t.Fatalf("first response %v", first)
	}
	// ACK, then publish a new configuration: it must arrive with a new version.
	ack := &discoveryv3.DiscoveryRequest{Node: node, TypeUrl: resourcev3.ExtensionConfigType, ResourceNames: []string{"tokengate"}, VersionInfo: first.VersionInfo, ResponseNonce: first.Nonce}
	if err := stream.Send(ack); err != nil {
		t.Fatal(err)
	}
	if err := srv.Publish(ctx, []byte(`{"v":2}`)); err != nil {
		t.Fatal(err)
	}
	second, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if second.VersionInfo == first.VersionInfo || configuration(t, second.Resources[0]) != `{"v":2}` {
		t.Fatalf("versions %q -> %q, resource %v", first.VersionInfo, second.VersionInfo, second.Resources)
	}
}

func TestDelta(t *testing.T) {
	t.Parallel()
	srv, client := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream, err := client.DeltaExtensionConfigs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	node := &corev3.Node{Id: "envoy-2", Cluster: "edge"}
	if err := stream.Send(&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: resourcev3.ExtensionConfigType, ResourceNamesSubscribe: []string{"tokengate"}}); err != nil {
		t.Fatal(err)
	}
	// The subscription waits for the first publication.
	if err := srv.Publish(ctx, []byte(`{"v":1}`)); err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Resources) != 1 || first.Resources[0].Name != "tokengate" || configuration(t, first.Resources[0].Resource) != `{"v":1}` {
		t.Fatalf("first response %v", first)
	}
	if err := stream.Send(&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: resourcev3.ExtensionConfigType, ResponseNonce: first.Nonce}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Publish(ctx, []byte(`{"v":2}`)); err != nil {
		t.Fatal(err)
	}
	second, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Resources) != 1 || second.Resources[0].Version == first.Resources[0].Version || configuration(t, second.Resources[0].Resource) != `{"v":2}` {
		t.Fatalf("second response %v", second)
	}
}
