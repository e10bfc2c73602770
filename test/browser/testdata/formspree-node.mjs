// Calls @formspree/core's submitForm from Node, as a server-side or build
// script would, against kontakt. Arguments: the API's origin, the path of
// @formspree/core's index.mjs and a marker for the messages. Prints one
// JSON line: what each call returned.
import { pathToFileURL } from "node:url";

const [api, corePath, marker] = process.argv.slice(2);
const { createClient } = await import(pathToFileURL(corePath).href);
const client = createClient();

function report(result) {
  return {
    kind: result.kind,
    next: result.next || "",
    formErrors: result.kind === "error" ? result.getFormErrors() : [],
    fieldErrors: result.kind === "error" ? Object.fromEntries(result.getAllFieldErrors()) : {},
  };
}

const form = new FormData();
form.append("name", "Ola Nordmann");
form.append("email", "ola@example.no");
form.append("message", marker + " (FormData)");

const out = {
  json: report(await client.submitForm("contact", { name: "Kari Nordmann", email: "kari@example.no", message: marker + " (JSON)" }, { endpoint: api })),
  formData: report(await client.submitForm("contact", form, { endpoint: api })),
  invalid: report(await client.submitForm("contact", { name: "Kari Nordmann", email: "kari" }, { endpoint: api })),
  unknownForm: report(await client.submitForm("nope", { message: marker }, { endpoint: api })),
};
console.log(JSON.stringify(out));
