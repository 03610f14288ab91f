/** The seeded PRNG lives with the csvlog generator in bench/ (tools both tests and the bench use); unit tests import it from here. */
export { prng } from '../../bench/prng';
