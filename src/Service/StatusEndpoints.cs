using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Distillery.Service;

/// <summary>
/// The read-only status page and JSON API of `distillery serve --status-port N` (bound to 127.0.0.1 only):
/// <c>/</c> the page (with <c>/status.js</c> and <c>/status.css</c>), <c>/api/runs</c> every item,
/// <c>/api/runs/{id}</c> one item with its loss curve, <c>/api/runs/{id}/grid.png</c> its image grid.
/// </summary>
public static class StatusEndpoints
{
    /// <summary>
    /// Sent with every response. The page may run only its own script and load only its own images and data: even a
    /// value that slipped into the DOM as HTML could not run script or reach another site. nosniff stops a browser
    /// from reading the JSON API or a PNG as HTML.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static void Map(WebApplication app, QueueStatus status)
    {
        app.Use(async (context, next) =>
        {
            context.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
            context.Response.Headers.XContentTypeOptions = "nosniff";
            context.Response.Headers["Referrer-Policy"] = "no-referrer";
            await next(context);
        });
        app.MapGet("/", () => Results.Content(StatusPage.Html, "text/html; charset=utf-8"));
        app.MapGet("/status.js", () => Results.Content(StatusPage.Script, "text/javascript; charset=utf-8"));
        app.MapGet("/status.css", () => Results.Content(StatusPage.Style, "text/css; charset=utf-8"));
        app.MapGet("/api/runs", () => Results.Text(
            new JsonArray(status.Items().Select(i => (JsonNode)i.ToJson()).ToArray()).ToJsonString(), "application/json"));
        app.MapGet("/api/runs/{id}", (string id) =>
        {
            var item = status.Item(id);
            if (item is null) return Results.NotFound();
            var json = item.ToJson();
            json["lossCurve"] = new JsonArray(status.LossCurve(id).Select(p => (JsonNode)new JsonArray(p.Step, p.Loss)).ToArray());
            return Results.Text(json.ToJsonString(), "application/json");
        });
        app.MapGet("/api/runs/{id}/grid.png", (string id) =>
            status.Item(id) is not null && status.ImageGrid(id) is { } path
                ? Results.File(File.ReadAllBytes(path), "image/png")
                : Results.NotFound());
    }
}
