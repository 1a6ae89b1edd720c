/**
 * The app's users, in the `USERS` KV namespace: `user:<name>` holds
 * `{"name": …, "password": "pbkdf2_sha256$…"}`. (KV has no compare-and-set: two sign-ups
 * of one name in the same second could both succeed, the last one winning. An app with
 * a database keeps its users there.)
 */
import { hashPassword, verifyNobody, verifyPassword } from './passwords'

export interface User {
  name: string
  /** The password hash: also the session's verifier (`authHash`), so a new password logs other sessions out. */
  password: string
}

const key = (name: string): string => `user:${name}`

/** User names: 3 to 32 letters, digits, `.`, `_` or `-`. */
export const USER_NAME = /^[A-Za-z0-9._-]{3,32}$/
/** Passwords: 8 to 256 characters. */
export const isPassword = (value: string): boolean => value.length >= 8 && value.length <= 256

export async function findUser(users: KVNamespace, name: string): Promise<User | null> {
  return users.get<User>(key(name), 'json')
}

/** Creates a user; resolves `null` when the name is taken. */
export async function createUser(
  users: KVNamespace,
  name: string,
  password: string,
): Promise<User | null> {
  if ((await findUser(users, name)) !== null) return null
  const user = { name, password: await hashPassword(password) }
  await users.put(key(name), JSON.stringify(user))
  return user
}

/** The user whose password this is, or `null` (the same work either way). */
export async function authenticate(
  users: KVNamespace,
  name: string,
  password: string,
): Promise<User | null> {
  const user = USER_NAME.test(name) ? await findUser(users, name) : null
  if (user === null) return verifyNobody(password).then(() => null)
  return (await verifyPassword(password, user.password)) ? user : null
}

/** Sets a new password; resolves the user as stored now. */
export async function setPassword(users: KVNamespace, user: User, password: string): Promise<User> {
  const updated = { ...user, password: await hashPassword(password) }
  await users.put(key(user.name), JSON.stringify(updated))
  return updated
}
