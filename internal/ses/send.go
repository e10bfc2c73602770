package ses

import (
	"context"

	"github.com/opt-e/kontakt/internal/email"
)

// Send emails msg from sender to the addresses to, with the configuration
// set (bounce and complaint feedback; none when ""). A failed send is an
// *Error with its class. The privacy messages (packages erasuremail and
// accessmail) go out through it.
func Send(ctx context.Context, client API, configurationSet, sender string, to []string, msg email.Message) error {
	if _, err := client.SendEmail(ctx, withConfigurationSet(input(sender, to, msg), configurationSet)); err != nil {
		return &Error{Class: Classify(err), Err: err}
	}
	return nil
}
