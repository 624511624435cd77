/**
 * A throwaway self-signed certificate for 127.0.0.1/localhost, for tests and the demo only: it uses
 * the `selfsigned` devDependency, loaded on first call, so installs without dev dependencies never
 * load it. Nothing is written to disk; each call makes a new key.
 */
export async function generateTestCertificate(): Promise<{ key: string; cert: string }> {
  const selfsigned = await import('selfsigned');
  const notAfterDate = new Date(Date.now() + 24 * 3600 * 1000);
  const result = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { key: result.private, cert: result.cert };
}
