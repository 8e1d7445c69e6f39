/** The roles a token can carry. */
export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a service knows about its caller: the verified claims of the access token. */
export interface UserPayload {
  id: string;
  email: string;
  role: Role;
  /** Issued at, in seconds since the epoch (the JWT `iat`). */
  iat: number;
  /** Expires at, in seconds since the epoch (the JWT `exp`). */
  exp: number;
}
