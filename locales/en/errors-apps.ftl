# A prompt app's input and a model's answer checked against the app's schemas. A problem
# follows the name of what it is about: "`tone` must be one of: formal, casual".

schema-required = is required
schema-undeclared = is not declared by the schema
schema-type = must be { $types }
# A JSON type, by its name in JSON Schema.
schema-type-name = { $type ->
    [string] text
    [integer] a whole number
    [number] a number
    [boolean] true or false
    [array] a list
    [object] an object
   *[null] null
}
schema-or = { $first } or { $rest }
schema-enum = must be one of: { $options }
schema-constant = must be { $value }
schema-max-length = must be at most { $limit } characters (it has { $count })
schema-empty = must not be empty
schema-min-length = must be at least { $limit } characters (it has { $count })
schema-maximum = must be at most { $limit }
schema-minimum = must be at least { $limit }
schema-exclusive-maximum = must be less than { $limit }
schema-exclusive-minimum = must be more than { $limit }
schema-multiple-of = must be a multiple of { $multiple }
schema-max-items = must have at most { $limit } item(s) (it has { $count })
schema-min-items = must have at least { $limit } item(s) (it has { $count })
schema-unique-items = must not list the same item twice
schema-max-properties = must have at most { $limit } field(s)
schema-min-properties = must have at least { $limit } field(s)
schema-pattern = must match the pattern `{ $pattern }`
schema-format = must be a valid { $format }
schema-no-shape = does not match any of the shapes the schema allows
schema-many-shapes = matches more than one of the shapes the schema allows
schema-not-allowed = is not allowed here
# `detail` is the validator's own message, in English.
schema-other = does not match the schema: { $detail }

# A run's input, from the app's form or the API.
input-api-only = this app has no form: send its input as JSON to the API ({ $reason })
input-not-object = the input must be a JSON object of the app's fields (its input_schema in GET /api/v1/apps), such as {"{"}"text": "..."{"}"}
input-control = contains control characters (such as NUL or ESC): remove them
input-problem = the input { $problem }
input-no-fields = is not a field of this app, which takes no input
input-unknown-field = is not a field of this app (its fields: { $fields })
input-not-integer = must be a whole number, such as 3
input-not-number = must be a number, such as 2.5
# A place inside a field: "`text` of item 2 must be text".
input-key = `{ $key }`
input-item = item { $number }
input-of = { $inner } of { $outer }
input-inside = { $place } { $problem }
error-input-too-long = The input is { $chars } characters long; the limit is { $max }. Shorten it and run the app again.
error-input-reserved = the input field `{ $field }` contains `<<<dotprompt:`, which is reserved for the template's role markers: remove it.
error-prompt-too-long = The input makes a prompt of { $tokens } tokens; this deployment accepts at most { $max }. Shorten it.

# A JSON app's answer that breaks its output schema.
output-empty = the answer is empty, where JSON was expected
output-not-json = the answer is not valid JSON ({ $detail })
output-problem = the answer { $problem }
output-schema-mismatch = the answer does not match the app's output schema: { $problems }{ $more ->
    [0] {""}
   *[other] {" "}(and { $more } more)
}
