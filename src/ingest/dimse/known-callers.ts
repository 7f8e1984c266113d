import net from 'node:net';
import type { Database } from '../../db/client.js';
import { listApplicationEntities } from '../../db/repositories/application-entities.js';

/** Who a calling application entity is: the institution its instances belong to. */
export interface KnownCaller {
  institutionId: string;
  institutionCode: string;
}

export interface KnownCallers {
  /** The configured sender with this calling AE title whose address or network includes `address`. */
  find(callingAeTitle: string, address: string): Promise<KnownCaller | undefined>;
}

/** IPv4 addresses arrive as IPv4-mapped IPv6 (`::ffff:10.1.2.3`) on dual-stack sockets. */
export function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/** Whether `address` is `entry` (an IP address) or inside it (a CIDR network such as `10.0.0.0/8`). */
export function addressMatches(entry: string, address: string): boolean {
  const plain = plainAddress(address);
  const family = net.isIPv4(plain) ? 'ipv4' : net.isIPv6(plain) ? 'ipv6' : undefined;
  if (!family) return false;
  const [network, prefix] = entry.split('/');
  const entryFamily = net.isIPv4(network ?? '') ? 'ipv4' : net.isIPv6(network ?? '') ? 'ipv6' : undefined;
  if (!entryFamily || entryFamily !== family) return false;
  const list = new net.BlockList();
  if (prefix === undefined) list.addAddress(network!, entryFamily);
  else list.addSubnet(network!, Number(prefix), entryFamily);
  return list.check(plain, family);
}

/** Whether a configured address is an IP address or a CIDR network nodus can match. */
export function isValidCallerAddress(entry: string): boolean {
  const [network, prefix, ...rest] = entry.split('/');
  if (rest.length > 0 || network === undefined) return false;
  const family = net.isIPv4(network) ? 4 : net.isIPv6(network) ? 6 : 0;
  if (family === 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits >= 0 && bits <= (family === 4 ? 32 : 128);
}

/**
 * The configured application entities (table application_entities), read again at most every `ttlMs`, so
 * a sender added with `nodus ae add` is known within seconds without a restart.
 */
export function knownCallersIn(db: Database, ttlMs = 5_000): KnownCallers {
  let loaded: { at: number; entries: Awaited<ReturnType<typeof listApplicationEntities>> } | undefined;
  return {
    async find(callingAeTitle, address) {
      if (!loaded || Date.now() - loaded.at > ttlMs) {
        loaded = { at: Date.now(), entries: await listApplicationEntities(db) };
      }
      const entry = loaded.entries.find(
        (e) => e.aeTitle === callingAeTitle.trim() && addressMatches(e.address, address),
      );
      return entry && { institutionId: entry.institutionId, institutionCode: entry.institutionCode };
    },
  };
}
