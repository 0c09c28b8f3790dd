/**
 * What an LDAP result code means for dirbridge, told by ldapts's error class (one per result code)
 * rather than by its name.
 */
import {
  AdminLimitExceededError,
  AlreadyExistsError,
  BusyError,
  InsufficientAccessError,
  InvalidCredentialsError,
  NoSuchObjectError,
  SizeLimitExceededError,
  TimeLimitExceededError,
  UnavailableError,
  UnwillingToPerformError,
  TypeOrValueExistsError,
  NoSuchAttributeError,
} from 'ldapts';

/**
 * A removed value the entry does not hold: noSuchAttribute (16); for a group's member, AD and Samba
 * answer unwillingToPerform (53, "not a member", or no object at that DN). Asked of one value only.
 */
export const isNoSuchValue = (e: unknown): boolean => e instanceof NoSuchAttributeError || e instanceof UnwillingToPerformError;

/** An added value already there: typeOrValueExists (20); for a group's member, AD and Samba answer entryAlreadyExists (68). */
export const isValueAlreadyThere = (e: unknown): boolean => e instanceof TypeOrValueExistsError || e instanceof AlreadyExistsError;

/** The entry is not there (32). */
export const isNoSuchObject = (e: unknown): boolean => e instanceof NoSuchObjectError;

/** "Not now" rather than "no": busy (51), unavailable (52). */
export const isTransientResult = (e: unknown): boolean => e instanceof BusyError || e instanceof UnavailableError;

/**
 * The server's limits stopped a search short: size limit (4), time limit (3), administrative limit
 * (11). Retrying would hit the same limit; what was returned is not all there is.
 */
export const isLimitResult = (e: unknown): boolean =>
  e instanceof SizeLimitExceededError || e instanceof TimeLimitExceededError || e instanceof AdminLimitExceededError;

export const isSizeLimit = (e: unknown): boolean => e instanceof SizeLimitExceededError;

/** A write that ran out of time may pass when tried again. */
export const isTimeLimit = (e: unknown): boolean => e instanceof TimeLimitExceededError;

/** The directory refused on rights or policy (50, 53). */
export const isRefusal = (e: unknown): boolean => e instanceof InsufficientAccessError || e instanceof UnwillingToPerformError;

export const isInsufficientAccess = (e: unknown): boolean => e instanceof InsufficientAccessError;

export const isInvalidCredentials = (e: unknown): boolean => e instanceof InvalidCredentialsError;
