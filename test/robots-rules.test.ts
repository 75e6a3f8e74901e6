import { describe, expect, it } from 'vitest';
import { compileRobots } from '../src/robots/robots-rules.js';

// Cases written from what RFC 9309 and google/robotstxt's robots_test.cc pin (their IDs in the names).
const cases: [string, string, string, [string, boolean][]][] = [
  ['ID_REPLineNamesCaseInsensitive', 'USER-AGENT: FooBot\nALLOW: /x/\nDISALLOW: /\n', 'FooBot', [['/x/y', true], ['/a/b', false]]],
  ['ID_UserAgentValueCaseInsensitive', 'User-Agent: FOOBOT\nDisallow: /\n', 'foobot', [['/x', false]]],
  ['ID_VerifyValidUserAgentsToObey: the product token only', 'User-Agent: FooBot Bar\nDisallow: /\n', 'FooBot', [['/x', false]]],
  ['a version in the file is not part of the token', 'User-Agent: FooBot/1.2\nDisallow: /\n', 'FooBot/3.0', [['/x', false]]],
  ['ID_GlobalGroups_Secondary: a specific group beats *', 'User-agent: *\nDisallow: /\nUser-agent: FooBot\nAllow: /\n', 'FooBot', [['/x', true]]],
  ['ID_GlobalGroups_Secondary: no specific group, * applies', 'User-agent: *\nDisallow: /x\nUser-agent: BarBot\nAllow: /\n', 'FooBot', [['/x', false], ['/y', true]]],
  ['groups of one agent are merged', 'User-agent: FooBot\nDisallow: /a\nUser-agent: Other\nDisallow: /\nUser-agent: FooBot\nDisallow: /b\n', 'FooBot', [['/a', false], ['/b', false], ['/c', true]]],
  ['ID_AllowDisallow_Value_CaseSensitive', 'User-agent: *\nDisallow: /X/\n', 'FooBot', [['/x/', true], ['/X/', false]]],
  ['ID_LongestMatch', 'User-agent: *\nAllow: /page\nDisallow: /*.html\n', 'FooBot', [['/page.html', false], ['/page', true]]],
  ['ID_LongestMatch: Allow wins a tie', 'User-agent: *\nAllow: /folder\nDisallow: /folder\n', 'FooBot', [['/folder', true]]],
  ['ID_SpecialCharacters: $ anchors the end', 'User-agent: *\nDisallow: /foo/bar$\n', 'FooBot', [['/foo/bar', false], ['/foo/bar/qux', true], ['/foo/bar?x', true]]],
  ['ID_SpecialCharacters: * matches any run', 'User-agent: *\nDisallow: /foo/*/qux\n', 'FooBot', [['/foo/bar/qux', false], ['/foo/qux', true]]],
  ['ID_Encoding: UTF-8 pattern vs percent-encoded path', 'User-agent: *\nDisallow: /foo/bar/ツ\n', 'FooBot', [['/foo/bar/%E3%83%84', false]]],
  ['ID_Encoding: percent-encoded pattern', 'User-agent: *\nDisallow: /foo/bar/%E3%83%84\n', 'FooBot', [['/foo/bar/%E3%83%84', false]]],
  ['an empty Disallow allows all', 'User-agent: *\nDisallow:\n', 'FooBot', [['/x', true]]],
  ['an empty file allows all', '', 'FooBot', [['/x', true]]],
  ['/robots.txt itself is always allowed', 'User-agent: *\nDisallow: /\n', 'FooBot', [['/robots.txt', true], ['/other', false]]],
  ['the query string is part of the path', 'User-agent: *\nDisallow: /a?b\n', 'FooBot', [['/a?b=1', false], ['/a', true]]],
  ['comments and a BOM', '\uFEFFUser-agent: * # all\nDisallow: /p # private\n', 'FooBot', [['/p', false]]],
  ['ID_LinesNumbersAreCountedCorrectly: CR line ends', 'User-agent: *\rDisallow: /p\r', 'FooBot', [['/p', false]]],
  ['a rule before any user-agent line is ignored', 'Disallow: /p\nUser-agent: *\nDisallow: /q\n', 'FooBot', [['/p', true], ['/q', false]]],
];

describe('robots.txt matching (RFC 9309)', () => {
  it.each(cases)('%s', (_name, text, agent, checks) => {
    const robots = compileRobots('http://e.test/robots.txt', text);
    for (const [path, allowed] of checks) expect([path, robots.isAllowed(`http://e.test${path}`, agent) ?? true]).toEqual([path, allowed]);
  });

  it('reads Crawl-delay for the matched group', () => {
    const robots = compileRobots('http://e.test/robots.txt', 'User-agent: FooBot Extra\nCrawl-delay: 2.5\nUser-agent: *\nCrawl-delay: 9\n');
    expect(robots.getCrawlDelay('FooBot')).toBe(2.5);
    expect(robots.getCrawlDelay('Other')).toBe(9);
  });
});
