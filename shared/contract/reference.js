// The interactive API reference: Swagger UI (served by the openapi function, no CDN) over openapi.json.
window.addEventListener("load", function () {
  var root = document.getElementById("reference");
  window.ui = SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 1,
    displayRequestDuration: true,
    filter: true,
    persistAuthorization: true,
    showExtensions: true,
  });
});
