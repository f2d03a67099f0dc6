// The database is defined in the upload layer (its tus URL store lives there too); the app's
// modules keep importing it from here.
export { DB_NAME, db, getSetting, setSetting, type StoredUpload, type WsiDb } from '../../upload/idb.ts';
