"""The console's pages, one module per subject. Each view parses, calls a selector or a
service, and renders; see console.queries for what each page reads."""
