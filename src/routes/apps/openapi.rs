//! Each app's own entry in the OpenAPI document: `POST /api/v1/apps/{its name}/runs`
//! with its input schema as the request body and its output schema in the response, so
//! the Scalar page documents it and a generated client types it. Added to the document
//! utoipa generates, from the apps being served.

use serde_json::{Value, json};

use crate::apps::{App, Apps, OutputFormat};

/// `document` (utoipa's, as JSON) with a typed path for every app.
pub fn with_apps(mut document: Value, apps: &Apps) -> Value {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return document;
    };
    for app in apps.iter() {
        paths.insert(format!("/api/v1/apps/{}/runs", app.name), path_of(app));
    }
    document
}

fn path_of(app: &App) -> Value {
    let input = app.input_schema.clone().unwrap_or_else(
        || json!({"type": "object", "properties": {}, "additionalProperties": false}),
    );
    let output = match app.output_format {
        OutputFormat::Json => app.output_schema.clone().unwrap_or(json!({})),
        OutputFormat::Text => json!({"type": "string", "description": "The answer, in Markdown."}),
        OutputFormat::Image => json!({
            "type": "string",
            "description": "The picture's path on this server (`/images/{sha256}`)."
        }),
    };
    let error = |description: &str| {
        json!({
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}
        })
    };
    let mut summary = app.title.clone();
    if let Some(description) = &app.description {
        summary = format!("{summary}: {description}");
    }
    json!({
        "post": {
            "tags": ["apps"],
            "summary": summary,
            "description": format!(
                "Runs the `{}` app (prompt version `{}`). The answer is JSON once the run has ended, or server-sent events with `Accept: text/event-stream`.",
                app.name,
                app.version.short()
            ),
            "operationId": format!("run_{}", app.name.replace('-', "_")),
            "requestBody": {
                "required": true,
                "content": {"application/json": {"schema": input}}
            },
            "responses": {
                "200": {
                    "description": "The run as it ended: its output, or why it has none (`error`)",
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "required": ["run_id", "status", "output", "usage"],
                        "properties": {
                            "run_id": {"type": "string"},
                            "status": {"$ref": "#/components/schemas/MessageStatus"},
                            "output": {"anyOf": [output, {"type": "null"}], "description": "The answer when `status` is `complete`; null otherwise"},
                            "error": {"type": ["string", "null"]},
                            "usage": {"$ref": "#/components/schemas/RunUsage"}
                        }
                    }}}
                },
                "400": error("The body is not JSON"),
                "401": error("Invalid API key"),
                "403": error("A guest keeps GUEST_MAX_CONVERSATIONS already"),
                "408": error("The body took too long to arrive"),
                "413": error("The input is too large"),
                "415": error("The body is not sent as application/json"),
                "422": error("The input breaks the app's schema: `fields` lists every problem"),
                "429": error("A daily allowance or a rate is spent; see Retry-After"),
                "503": error("Model calls are paused; see Retry-After")
            },
            "security": [{}, {"api_key": []}]
        }
    })
}
