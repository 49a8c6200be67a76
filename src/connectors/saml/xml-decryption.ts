import { promisify } from 'node:util';
import xmlenc from 'xml-encryption';
import { refuse } from './saml-errors.js';
import { attr, child, descendants, serialize } from './saml-xml.js';
import { DATA_ENCRYPTION_ALGORITHMS, KEY_TRANSPORT_ALGORITHMS, NS } from './saml-constants.js';

const decrypt = promisify(xmlenc.decrypt) as (xml: string, options: xmlenc.DecryptOptions) => Promise<string>;

/**
 * Decrypts an `<EncryptedAssertion>` ([SAMLCore] 2.3.4 and 6.1) with the connection's own
 * encryption key, after checking its algorithms against an allow-list: AES-GCM or AES-CBC for the
 * content, RSA-OAEP for the key. RSA PKCS#1 v1.5 (Bleichenbacher's attack) and Triple DES never
 * reach the library. Returns the decrypted assertion document as text.
 */
export async function decryptAssertion(encryptedAssertion: Element, encryptionKeyPem: string): Promise<string> {
  const data = descendants(encryptedAssertion, NS.xenc, 'EncryptedData');
  if (data.length !== 1) refuse('saml.decryption_failed', `<EncryptedAssertion> holds ${data.length} EncryptedData elements`);
  const dataAlgorithm = attr(child(data[0]!, NS.xenc, 'EncryptionMethod') ?? data[0]!, 'Algorithm');
  if (!dataAlgorithm || !(DATA_ENCRYPTION_ALGORITHMS as readonly string[]).includes(dataAlgorithm)) {
    refuse('saml.algorithm_not_allowed', `content encryption algorithm ${dataAlgorithm ?? '(none)'}`);
  }
  const keys = descendants(encryptedAssertion, NS.xenc, 'EncryptedKey');
  if (keys.length !== 1) refuse('saml.decryption_failed', `<EncryptedAssertion> holds ${keys.length} EncryptedKey elements (exactly one is supported)`);
  const keyAlgorithm = attr(child(keys[0]!, NS.xenc, 'EncryptionMethod') ?? keys[0]!, 'Algorithm');
  if (!keyAlgorithm || !(KEY_TRANSPORT_ALGORITHMS as readonly string[]).includes(keyAlgorithm)) {
    refuse('saml.algorithm_not_allowed', `key transport algorithm ${keyAlgorithm ?? '(none)'}`);
  }
  try {
    return await decrypt(serialize(encryptedAssertion), { key: encryptionKeyPem, disallowDecryptionWithInsecureAlgorithm: true, warnInsecureAlgorithm: false });
  } catch {
    // The library's message is not shown: a padding-oracle attacker must not learn why it failed.
    return refuse('saml.decryption_failed', 'decryption with the connection\'s encryption key failed');
  }
}
