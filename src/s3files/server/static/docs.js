// Starts Swagger UI (/docs) or Redoc (/redoc) on the service's own OpenAPI document; both
// libraries are served by the service (/docs-assets), so the docs work with no internet.

const swagger = document.getElementById("swagger-ui");
const redoc = document.getElementById("redoc");
const spec = new URL((swagger || redoc).dataset.openapi, location.href).href;

if (swagger && window.SwaggerUIBundle) {
  window.ui = window.SwaggerUIBundle({
    url: spec,
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    showExtensions: true,
    layout: "BaseLayout",
    presets: [window.SwaggerUIBundle.presets.apis],
  });
} else if (redoc && window.Redoc) {
  window.Redoc.init(spec, { hideDownloadButton: false }, redoc);
}
