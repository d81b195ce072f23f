package automationtest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/automationtest"
)

var dev = automation.StackRef{Environment: "dev", Stack: "dev"}

func TestConcurrentUpdateErrorIsTheAutomationAPIs(t *testing.T) {
	t.Parallel()
	err := automationtest.ConcurrentUpdateError("dev", "root", "host-a", 4242)
	require.Error(t, err)
	assert.True(t, auto.IsConcurrentUpdateError(err))
	assert.True(t, automation.IsConcurrentUpdate(err))
	l := automation.ParseStackLock(err.Error())
	require.NotNil(t, l)
	assert.Equal(t, "root", l.User)
	assert.Equal(t, "host-a", l.Host)
	assert.Equal(t, 4242, l.PID)
}

func TestFakeStateChangesOnSuccessOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := automationtest.NewFake()
	st, err := f.State(ctx, dev)
	require.NoError(t, err)
	assert.False(t, st.Exists)

	_, err = f.Up(ctx, dev, automation.OpOptions{})
	require.NoError(t, err)
	m1 := f.Marker("dev")
	require.NotEmpty(t, m1)

	f.NextErr["up/dev"] = errors.New("boom")
	_, err = f.Up(ctx, dev, automation.OpOptions{})
	require.EqualError(t, err, "boom")
	assert.Equal(t, m1, f.Marker("dev"), "a failed up leaves the state alone")
	_, err = f.Up(ctx, dev, automation.OpOptions{})
	require.NoError(t, err, "NextErr is used once")
	assert.NotEqual(t, m1, f.Marker("dev"))

	f.SetPending("dev", automation.PendingOp{URN: "urn:a", Kind: "creating"}, automation.PendingOp{URN: "urn:b", Kind: "updating"})
	_, err = f.Refresh(ctx, dev, automation.OpOptions{ImportPending: []automation.PendingCreate{{URN: "urn:a", ID: "a"}}})
	require.NoError(t, err)
	require.Len(t, f.StateOf("dev").Pending, 1)
	_, err = f.Refresh(ctx, dev, automation.OpOptions{ClearPending: true})
	require.NoError(t, err)
	assert.Empty(t, f.StateOf("dev").Pending)
	assert.Equal(t, "refresh", f.StateOf("dev").LastUpdate.Kind)
}

func TestFakeLockedStackUntilCancelled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := automationtest.NewFake()
	f.LockStack("dev", "root", "h", 1)
	_, err := f.Preview(ctx, dev, automation.OpOptions{})
	assert.True(t, auto.IsConcurrentUpdateError(err))
	require.NoError(t, f.CancelUpdate(ctx, dev))
	_, err = f.Preview(ctx, dev, automation.OpOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"preview", "cancel", "preview"}, []string{f.Calls[0].Op, f.Calls[1].Op, f.Calls[2].Op})
}

func TestFakeDelayAndConcurrency(t *testing.T) {
	t.Parallel()
	f := automationtest.NewFake()
	f.Delay["up"] = 20 * time.Millisecond
	f.Delay["up/fast"] = 0
	var wg sync.WaitGroup
	for _, s := range []string{"a", "b", "fast"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = f.Up(context.Background(), automation.StackRef{Environment: "dev", Stack: s}, automation.OpOptions{})
		}()
	}
	wg.Wait()
	for _, c := range f.Ops("up") {
		if c.Stack.Stack == "fast" {
			assert.Less(t, c.End.Sub(c.Start), 15*time.Millisecond)
		} else {
			assert.GreaterOrEqual(t, c.End.Sub(c.Start), 20*time.Millisecond)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.Up(ctx, dev, automation.OpOptions{})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestFakeHealth(t *testing.T) {
	t.Parallel()
	h := automationtest.NewFakeHealth()
	before := time.Now()
	rep, err := h.Check(context.Background(), dev, nil)
	require.NoError(t, err)
	assert.True(t, rep.Healthy())
	assert.False(t, rep.Checked.Before(before), "a reading is taken at the call")
	h.SetProblems("dev", "pool spot: 1/3 nodes ready")
	rep, _ = h.Check(context.Background(), dev, nil)
	assert.False(t, rep.Healthy())
	assert.Equal(t, []string{"dev-cluster: pool spot: 1/3 nodes ready"}, rep.Problems())
	h.SetStale(true)
	rep, _ = h.Check(context.Background(), dev, nil)
	assert.True(t, rep.Checked.Before(before))
	assert.Equal(t, 3, h.Checks("dev"))
}

func ExampleFake() {
	ctx := context.Background()
	fake := automationtest.NewFake()
	fake.NextErr["up/staging"] = errors.New("error: quota exceeded")
	staging := automation.StackRef{Environment: "staging", Stack: "staging"}

	_, err := fake.Up(ctx, staging, automation.OpOptions{})
	fmt.Println(err)
	_, err = fake.Up(ctx, staging, automation.OpOptions{})
	fmt.Println(err, fake.Stacks(automationtest.OpUp), fake.Marker("staging") != "")
	// Output:
	// error: quota exceeded
	// <nil> [staging staging] true
}
