"""Renders the templates of this package's templates/ directory with jinja2's PackageLoader."""

from jinja2 import Environment, PackageLoader, select_autoescape

env = Environment(
    loader=PackageLoader("corpus_templates", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(name: str, **context: object) -> str:
    return env.get_template(name).render(**context)
