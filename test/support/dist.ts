/**
 * Imports a module from the build (`dist/`), typed as its source. In-process tests of the job
 * use the build so that the piscina worker they start is the compiled one.
 */
export async function fromDist<T>(path: string): Promise<T> {
  const url = new URL(`../../dist/${path}`, import.meta.url).href;
  return (await import(url)) as T;
}
