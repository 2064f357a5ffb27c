import { parse } from 'parse5';
import type { DefaultTreeAdapterMap } from 'parse5';

export type Node = DefaultTreeAdapterMap['node'];
export type Element = DefaultTreeAdapterMap['element'];
export type Document = DefaultTreeAdapterMap['document'];

/** Parses with parse5, the spec-compliant HTML parser, so assertions see what a browser sees. */
export function parseHtml(html: string): Document {
  return parse(html);
}

export function isElement(node: Node): node is Element {
  return 'tagName' in node;
}

export function* walk(node: Node): Generator<Element> {
  if (isElement(node)) yield node;
  const children = 'childNodes' in node ? node.childNodes : [];
  for (const child of children) yield* walk(child as Node);
  if (isElement(node) && node.tagName === 'template') yield* walk((node as any).content);
}

export function attr(el: Element | undefined, name: string): string | undefined {
  return el?.attrs.find((a) => a.name === name)?.value;
}

export function byId(doc: Node, id: string): Element {
  for (const el of walk(doc)) if (attr(el, 'id') === id) return el;
  throw new Error(`no element #${id}`);
}

export function byTag(doc: Node, tag: string): Element[] {
  return [...walk(doc)].filter((el) => el.tagName === tag);
}

export function textOf(node: Node): string {
  if ('value' in node && node.nodeName === '#text') return (node as any).value;
  const children = 'childNodes' in node ? node.childNodes : [];
  return children.map((c) => textOf(c as Node)).join('');
}

export function body(doc: Document): Element {
  return byTag(doc, 'body')[0]!;
}

/** Element children (whitespace text ignored). */
export function elementChildren(el: Element): Element[] {
  return el.childNodes.filter(isElement);
}

/** Every URL-bearing attribute value in the document, with where it was found. */
export function urlAttributes(doc: Node): { tag: string; id?: string; name: string; value: string }[] {
  const names = ['href', 'src', 'srcset', 'imagesrcset', 'poster', 'action', 'formaction', 'data', 'cite', 'data-src', 'data-srcset', 'data-original', 'data-lazy-src', 'data-bg', 'style', 'background'];
  const out: { tag: string; id?: string; name: string; value: string }[] = [];
  for (const el of walk(doc)) {
    for (const a of el.attrs) if (names.includes(a.name)) out.push({ tag: el.tagName, id: attr(el, 'id'), name: a.name, value: a.value });
  }
  return out;
}
