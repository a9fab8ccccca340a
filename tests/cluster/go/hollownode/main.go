// Command hollownode runs one simulated node for the test cluster: the real
// kubelet code of k8s.io/kubernetes/pkg/kubemark with a fake container runtime
// (pods become Running and Ready, containers never exit) and a fake cAdvisor
// whose machine size is set by flags, so the node's allocatable matches the
// reference server (4 CPU, 24 GiB). Its kubelet server listens on loopback only.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	cadvisorapi "github.com/google/cadvisor/info/v1"
	"go.opentelemetry.io/otel/trace/noop"
	"k8s.io/apimachinery/pkg/api/resource"
	clientset "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	remote "k8s.io/cri-client/pkg"
	fakeremote "k8s.io/cri-client/pkg/fake"
	"k8s.io/klog/v2"
	cadvisortest "k8s.io/kubernetes/pkg/kubelet/cadvisor/testing"
	"k8s.io/kubernetes/pkg/kubelet/cm"
	"k8s.io/kubernetes/pkg/kubemark"
)

// sizedMachine reports a machine of the requested size instead of the fixed
// one of the fake cAdvisor.
type sizedMachine struct {
	*cadvisortest.Fake
	cores  int
	memory uint64
}

func (m sizedMachine) MachineInfo() (*cadvisorapi.MachineInfo, error) {
	info, err := m.Fake.MachineInfo()
	if err != nil {
		return nil, err
	}
	info.NumCores = m.cores
	info.MemoryCapacity = m.memory
	return info, nil
}

func main() {
	var (
		kubeconfig = flag.String("kubeconfig", "", "kubeconfig of the API server")
		name       = flag.String("name", "node-1", "node name")
		cores      = flag.Int("cpu", 4, "CPU cores the node reports")
		memory     = flag.String("memory", "24Gi", "memory the node reports (quantity)")
		maxPods    = flag.Int("max-pods", 110, "pods the node accepts")
		port       = flag.Int("kubelet-port", 10250, "loopback port of the kubelet server")
	)
	klog.InitFlags(nil)
	flag.Parse()
	if err := run(*kubeconfig, *name, *cores, *memory, *maxPods, *port); err != nil {
		fmt.Fprintln(os.Stderr, "hollownode:", err)
		os.Exit(1)
	}
}

func run(kubeconfig, name string, cores int, memory string, maxPods, port int) error {
	mem, err := resource.ParseQuantity(memory)
	if err != nil {
		return fmt.Errorf("--memory %q: %w", memory, err)
	}
	restConfig, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("--kubeconfig %q: %w", kubeconfig, err)
	}
	restConfig.UserAgent = "hollow-kubelet"
	client, err := clientset.NewForConfig(restConfig)
	if err != nil {
		return err
	}

	flags, config := kubemark.GetHollowKubeletConfig(&kubemark.HollowKubeletOptions{
		NodeName:    name,
		KubeletPort: port,
		MaxPods:     maxPods,
		NodeLabels:  map[string]string{"k8s-ee.test/simulated": "true"},
	})
	config.Address = "127.0.0.1"
	config.HealthzPort = 0 // several nodes share the host's loopback
	config.ReadOnlyPort = 0

	heartbeat := *restConfig
	heartbeat.Timeout = config.NodeStatusUpdateFrequency.Duration
	if lease := time.Duration(config.NodeLeaseDurationSeconds) * time.Second; heartbeat.Timeout > lease {
		heartbeat.Timeout = lease
	}
	heartbeat.QPS = -1
	heartbeatClient, err := clientset.NewForConfig(&heartbeat)
	if err != nil {
		return err
	}

	endpoint, err := fakeremote.GenerateEndpoint()
	if err != nil {
		return err
	}
	runtime := fakeremote.NewFakeRemoteRuntime()
	if err := runtime.Start(endpoint); err != nil {
		return err
	}
	defer runtime.Stop()
	logger := klog.Background()
	runtimeService, err := remote.NewRemoteRuntimeService(endpoint, 15*time.Second, noop.NewTracerProvider(), &logger)
	if err != nil {
		return err
	}

	machine := sizedMachine{Fake: &cadvisortest.Fake{NodeName: name}, cores: cores, memory: uint64(mem.Value())}
	kubelet := kubemark.NewHollowKubelet(flags, config, client, heartbeatClient, machine,
		runtime.ImageService, runtimeService, cm.NewStubContainerManager())

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go kubelet.Run(ctx)
	<-ctx.Done()
	return nil
}
