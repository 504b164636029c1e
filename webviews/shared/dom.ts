/** A tiny element builder: properties are assigned, children appended (text is never parsed as HTML). */
export function h<K extends string>(
  tag: K,
  props: Record<string, unknown> = {},
  ...children: (Node | string)[]
): K extends keyof HTMLElementTagNameMap ? HTMLElementTagNameMap[K] : HTMLElement {
  const element = document.createElement(tag);
  Object.assign(element, props);
  element.append(...children);
  return element as K extends keyof HTMLElementTagNameMap ? HTMLElementTagNameMap[K] : HTMLElement;
}
