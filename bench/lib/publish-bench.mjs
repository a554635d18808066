// Publish micro-benchmark: the built publisher (dist/publish) writes `words` words spread over
// `languages` languages, `repeats` times in a row under one fresh key prefix. The first publish
// meets no live lists; the later ones replace live lists and versions, as a nightly run does.
// Each publish is timed from the client, and SLOWLOG (every command logged) gives the longest
// single command Redis executed for it: the time consumers could have been blocked.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mulberry32 } from './random.mjs';

// Fifty ISO 639-1 codes: valid for the publisher's language check.
const LANGUAGES = (
  'en de fr es it pt nl sv da no fi pl cs sk sl hr sr bg ru uk be lt lv et hu ro el tr ar he ' +
  'fa hi bn ur ta te ml kn mr gu pa th vi id ms tl sw zu af ga'
).split(' ');
const LETTERS = 'abcdefghijklmnopqrstuvwxyzäöüéèàçñøåßłśżźćńą';

/** Deterministic lists: `perLanguage` distinct words (3–12 letters) with 4-digit confidences. */
export function syntheticLists(languageCount, perLanguage, seed) {
  const random = mulberry32(seed);
  const lists = new Map();
  for (const lang of LANGUAGES.slice(0, languageCount)) {
    const words = new Map();
    while (words.size < perLanguage) {
      const length = 3 + Math.floor(random() * 10);
      let word = '';
      for (let i = 0; i < length; i++) word += LETTERS[Math.floor(random() * LETTERS.length)];
      words.set(word, (0.2 + random() * 0.8).toFixed(4));
    }
    lists.set(lang, words);
  }
  return lists;
}

export async function publishBenchmark({ root, redis, words, languages, repeats, prefix }) {
  if (languages > LANGUAGES.length) throw new Error(`at most ${LANGUAGES.length} languages`);
  const { RedisPublisher } = await import(pathToFileURL(join(root, 'dist/publish/index.js')).href);
  const perLanguage = Math.ceil(words / languages);
  const publisher = await RedisPublisher.connect({
    url: redis.url,
    keyPrefix: prefix,
    keepVersions: 14,
    connectTimeoutSeconds: 5,
    stagingTtlSeconds: 3600,
  });
  const runs = [];
  try {
    for (let i = 0; i < repeats; i++) {
      const lists = syntheticLists(languages, perLanguage, 1000 + i);
      await redis.resetSlowlog();
      const started = performance.now();
      const swap = await publisher.publish({
        runId: `bench-publish-${i + 1}`,
        lists,
        analyzerVersion: 'bench',
        publishedAt: new Date(),
      });
      const seconds = (performance.now() - started) / 1000;
      const longest = await redis.longestCommand();
      runs.push({
        seconds,
        version: swap.version,
        overLiveLists: i > 0,
        longestCommandMs: longest.ms,
        longestCommand: longest.command,
        commandsOver10ms: longest.over10ms,
        commandP50Ms: longest.p50Ms,
        commandP99Ms: longest.p99Ms,
        commands: longest.entries,
      });
    }
  } finally {
    await publisher.close();
  }
  return { words: perLanguage * languages, languages, perLanguage, runs };
}
