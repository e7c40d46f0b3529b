"""Strings that must stay text in every renderer."""

#: Each payload sets window.__pwned if it ever runs (HTML, attribute, JS string and template contexts).
HTML_PAYLOADS = (
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=2">',
    "${window.__pwned=3}",
    "\\`;window.__pwned=4;`",
    "</script><script>window.__pwned=5</script>",
    "\"'><svg onload=window.__pwned=6>",
)
#: Server-side template syntax (folium/branca compile Jinja2): evaluated, each would show something else
#: ("Probe 49", "XXX", nothing, a dump of Python globals, "map_div"), or run code on the server. CSS-looking
#: text must show as text and must not stop an export.
TEMPLATE_PAYLOADS = (
    "Probe {{7*7}}",
    "{% for i in range(3) %}X{% endfor %}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{# hidden #}{{'map_div'}}",
    "url(http://example.invalid/x.png) @import 'https://example.invalid/y.css';",
)
PAYLOADS = HTML_PAYLOADS + TEMPLATE_PAYLOADS
