import { describe, expect, it } from 'vitest';
import { codeBlock, codeSpan, escapeMarkdown } from './markdown.js';

describe('escapeMarkdown', () => {
  it('leaves no markup, HTML, mention, reference or table break in text from outside', () => {
    expect(escapeMarkdown('edge|01 <img src=x> **bold** [link](x) @team #12 :tada: $x$ a_b_c')).toBe(
      'edge\\|01 \\<img src=x\\> \\*\\*bold\\*\\* \\[link\\](x) \\@team \\#12 \\:tada\\: \\$x\\$ a\\_b\\_c',
    );
  });

  it('keeps a cell on one line', () => {
    expect(escapeMarkdown('one\ntwo\r\nthree')).toBe('one two three');
  });
});

describe('codeSpan', () => {
  it('is never closed early by a backtick inside', () => {
    expect(codeSpan('nginx -t')).toBe('`nginx -t`');
    expect(codeSpan('echo `date`')).toBe('`` echo `date` ``');
    expect(codeSpan('a``b')).toBe('```a``b```');
  });
});

describe('codeBlock', () => {
  it('uses a fence longer than any run of backticks in the text', () => {
    expect(codeBlock('plain')).toBe('```text\nplain\n```');
    expect(codeBlock('```\nnot the end\n````')).toBe('`````text\n```\nnot the end\n````\n`````');
  });
});
