// The sign-in form: the key is tried against the API's own document (it
// needs the key and nothing else) and kept in this tab only if accepted.
import { rememberKey } from "./console.js";

const form = document.getElementById("sign-in");
const input = document.getElementById("api-key");
const error = document.getElementById("sign-in-error");

/** Back to the page that asked for the key, if it is a console page. */
function next() {
  const asked = new URLSearchParams(location.search).get("next") || "";
  return /^\/console\/[^/]/.test(asked) || asked === "/console/" ? asked : "/console/";
}

function refused(message) {
  error.textContent = message;
  error.hidden = false;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const key = input.value.trim();
  if (!key) return refused("Enter the API key.");
  let response;
  try {
    response = await fetch("/ssl_for_saas/openapi.json", {
      headers: { "x-api-key": key },
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    return refused("The service can't be reached.");
  }
  if (response.status === 401) return refused("This key is not accepted.");
  if (!response.ok) return refused(`The service answered HTTP ${response.status}.`);
  rememberKey(key);
  location.replace(next());
});
