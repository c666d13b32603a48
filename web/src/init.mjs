// Starts GOV.UK Frontend's components (service navigation menu, error summary focus, ...).
import { initAll } from "./govuk-frontend.min.js";

initAll();
