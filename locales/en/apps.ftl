# The prompt apps: the gallery, an app's page and a run's result.

apps-title = Apps
apps-empty-html = No apps yet. Run <code>promptship apps new my-app</code> and edit <code>apps/my-app.prompt</code>.
# The badge on a gallery card: the app's output format.
apps-format = { $format ->
    [text] text
    [json] json
    [image] image
   *[other] { $format }
}

app-api-only = This app runs through the API only:
app-api-only-see-html = See <a href="/api/docs">the API reference</a>.
app-run = Run
app-sample = Fill with the sample

result-drawing = Drawing…
result-picture-alt = The picture this run made
result-download = Download
result-copy-json = Copy JSON
result-copied = Copied
result-continue = Continue in chat
