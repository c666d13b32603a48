// Starts Swagger UI on /docs from the service's own copy of swagger-ui-dist (no CDN, no inline script).
window.addEventListener("load", () => {
  const el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: el.dataset.openapi, dom_id: "#swagger-ui", deepLinking: true,
                                presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout" });
});
