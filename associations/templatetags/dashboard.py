"""``{% render_block b %}``: render one registered dashboard block with its selector's data."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def render_block(context, rendered):
    block_template = context.template.engine.get_template(rendered.block.template)
    with context.push(block=rendered.block, **rendered.data):
        return block_template.render(context)
