import { describe, expect, it } from 'vitest';
import { redactMongoUri, scrubMongoSecret } from '../../src/corpus/mongo-uri.js';

describe('MongoDB connection strings in messages', () => {
  it('hides the password and keeps the user, hosts, database and options', () => {
    expect(
      redactMongoUri('mongodb://reader:s3cr%40t@db1:27017,db2:27017/corpus?replicaSet=rs0'),
    ).toBe('mongodb://reader:***@db1:27017,db2:27017/corpus?replicaSet=rs0');
    expect(redactMongoUri('mongodb+srv://reader:pw@cluster.example/corpus')).toBe(
      'mongodb+srv://reader:***@cluster.example/corpus',
    );
    expect(redactMongoUri('mongodb://db1/corpus')).toBe('mongodb://db1/corpus');
    expect(redactMongoUri('mongodb://onlyuser@db1/corpus')).toBe('mongodb://onlyuser@db1/corpus');
  });

  it('removes the raw and decoded password from driver messages', () => {
    const uri = 'mongodb://reader:s3cr%40t@db1/corpus';
    const message = `failed for ${uri}: password s3cr@t and s3cr%40t rejected`;
    const scrubbed = scrubMongoSecret(message, uri);
    expect(scrubbed).not.toContain('s3cr');
    expect(scrubbed).toContain('mongodb://reader:***@db1/corpus');
  });
});
