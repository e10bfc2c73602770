package submission

import "context"

// FindUnderKeys calls find with each lookup key in turn and returns every
// copy it finds, a copy found under two keys once (id names a copy): one
// address's copies may sit under its keyed lookup key and under the keys
// of the migration windows (LegacyLookupKey, PreIDNALookupKey).
func FindUnderKeys[C any](ctx context.Context, keys []string, find func(context.Context, string) ([]C, error), id func(C) string) ([]C, error) {
	var copies []C
	seen := map[string]bool{}
	for _, k := range keys {
		found, err := find(ctx, k)
		if err != nil {
			return nil, err
		}
		for _, c := range found {
			if !seen[id(c)] {
				seen[id(c)] = true
				copies = append(copies, c)
			}
		}
	}
	return copies, nil
}
