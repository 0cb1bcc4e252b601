import { createHash } from "node:crypto";

/** Lowercase hex SHA-256, synchronously (node:crypto): the same digest as `sha256Hex`, without Web Crypto's promise. */
export const nodeSha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");
