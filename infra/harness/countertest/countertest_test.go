package countertest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestCounterRefusesAFullKeyAndUndoGivesOneBack(t *testing.T) {
	ctx := context.Background()
	var c Counter
	for i, want := range []bool{true, true, false} {
		if ok, err := c.Hit(ctx, "k", 2, time.Time{}); ok != want || err != nil {
			t.Fatalf("hit %d = %v, %v; want %v", i+1, ok, err, want)
		}
	}
	if err := c.Undo(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Hit(ctx, "k", 2, time.Time{}); !ok {
		t.Fatal("hit after Undo refused")
	}
	if ok, _ := c.Hit(ctx, "other", 1, time.Time{}); !ok {
		t.Fatal("a key counted with another")
	}
	if got, want := c.Keys(), []string{"k", "k", "k", "k", "other"}; !slices.Equal(got, want) {
		t.Fatalf("keys %q, want %q", got, want)
	}
}

func TestCounterSetAndErr(t *testing.T) {
	ctx := context.Background()
	var c Counter
	c.Set("k", 1)
	if ok, _ := c.Hit(ctx, "k", 1, time.Time{}); ok {
		t.Fatal("hit on a key set full was counted")
	}
	c.Err = errors.New("connection refused")
	if _, err := c.Hit(ctx, "k", 5, time.Time{}); err == nil {
		t.Fatal("Hit with Err set succeeded")
	}
	if err := c.Undo(ctx, "k"); err == nil {
		t.Fatal("Undo with Err set succeeded")
	}
}
