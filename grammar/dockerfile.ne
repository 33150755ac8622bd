@preprocessor typescript
# Placeholder until the parser lands (issue 2).
main -> null
