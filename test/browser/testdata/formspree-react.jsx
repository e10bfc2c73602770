// A contact form written with @formspree/react's useForm, as its README
// shows it, pointed at kontakt with the endpoint option. The browser tests
// build it once with esbuild.
import React from "react";
import { createRoot } from "react-dom/client";
import { useForm, ValidationError } from "@formspree/react";

function Contact() {
  const [state, handleSubmit] = useForm("contact", { endpoint: window.kontaktAPI });
  if (state.succeeded) {
    window.result = { kind: "success", next: state.result.next, formErrors: [], fieldErrors: {} };
    return <p data-fs-success="" data-fs-active="">Takk for meldingen!</p>;
  }
  if (state.errors) {
    window.result = {
      kind: "error", next: "",
      formErrors: state.errors.getFormErrors(),
      fieldErrors: Object.fromEntries(state.errors.getAllFieldErrors()),
    };
  }
  return (
    <form id="form" onSubmit={handleSubmit} data-ready="">
      <ValidationError errors={state.errors} data-fs-error="" data-fs-active="" />
      <label>Navn <input name="name" /></label>
      <label>E-post <input name="email" /></label>
      <ValidationError field="email" errors={state.errors} data-fs-error="email" data-fs-active="" />
      <label>Melding <textarea name="message" rows="3" /></label>
      <ValidationError field="message" errors={state.errors} data-fs-error="message" data-fs-active="" />
      <input type="hidden" name="_subject" value="Nettlesertest" />
      <button id="send" type="submit" disabled={state.submitting}>Send</button>
    </form>
  );
}

createRoot(document.getElementById("root")).render(<Contact />);
