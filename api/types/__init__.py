"""One module per GraphQL type; ``api.schema`` lists the root-field classes they define."""
